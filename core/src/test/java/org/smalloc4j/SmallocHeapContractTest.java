package org.smalloc4j;

import java.util.OptionalLong;

/** The contract on a default builder heap (8 TiB of address space), closed after each test. */
class SmallocHeapContractTest extends AllocatorContract {

    @Override
    protected NativeAllocator createAllocator() {
        return Smalloc.builder().name("contract").build();
    }

    @Override
    protected boolean closable() {
        return true;
    }

    @Override
    protected OptionalLong liveBlocks() {
        return OptionalLong.of(((Smalloc) allocator()).stats().slotsInUse());
    }
}
