package org.smalloc4j;

import org.junit.jupiter.api.BeforeAll;

/**
 * jemalloc from {@code libjemalloc.so.2} passes the shared contract. It must run in CI (fails there
 * when the library is missing); needs GLIBC_TUNABLES (set by core/pom.xml) to load.
 */
class JemallocContractTest extends AllocatorContract {

    @BeforeAll
    static void requireJemalloc() {
        RequiredLibrary.require(LibraryAllocator.JEMALLOC);
    }

    @Override
    protected NativeAllocator createAllocator() {
        return LibraryAllocator.jemalloc().orElseThrow();
    }

    @Override
    protected boolean detectsForeignPointers() {
        return false; // freeing a pointer jemalloc never gave is undefined behaviour, as in C
    }
}
