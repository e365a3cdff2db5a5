package org.smalloc4j;

import org.junit.jupiter.api.BeforeAll;

/**
 * mimalloc from {@code libmimalloc.so.2} passes the shared contract, alignment included: the
 * allocator avoids mimalloc 2.0.9's misaligned blocks (issue #700), so {@link #honoursAlignment} keeps
 * its default. It must run in CI: there a missing library fails it; elsewhere each test is skipped
 * with the reason.
 */
@RequiredLibrary.Needs(LibraryAllocator.MIMALLOC)
class MimallocContractTest extends AllocatorContract {

    @BeforeAll
    static void requireMimalloc() {
        RequiredLibrary.failInCiIfMissing(LibraryAllocator.MIMALLOC);
    }

    @Override
    protected NativeAllocator createAllocator() {
        return LibraryAllocator.mimalloc().orElseThrow();
    }

    @Override
    protected boolean detectsForeignPointers() {
        return false; // freeing a pointer mimalloc never gave is undefined behaviour, as in C
    }
}
