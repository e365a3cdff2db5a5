package org.smalloc4j;

import org.junit.jupiter.api.BeforeAll;

/**
 * jemalloc from {@code libjemalloc.so.2} passes the shared contract. It must run in CI: there a
 * missing library fails it; elsewhere each test is skipped with the reason. The library loads only
 * with GLIBC_TUNABLES set (core/pom.xml sets it for the test JVM).
 */
@RequiredLibrary.Needs(LibraryAllocator.JEMALLOC)
class JemallocContractTest extends AllocatorContract {

    @BeforeAll
    static void requireJemalloc() {
        RequiredLibrary.failInCiIfMissing(LibraryAllocator.JEMALLOC);
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
