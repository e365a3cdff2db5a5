package org.smalloc4j;

/** libc's allocator through FFM passes the shared contract; it cannot tell foreign pointers. */
class SystemAllocatorContractTest extends AllocatorContract {

    @Override
    protected NativeAllocator createAllocator() {
        return new SystemAllocator();
    }

    @Override
    protected boolean detectsForeignPointers() {
        return false; // free() of a pointer malloc never gave is undefined behaviour in C
    }
}
