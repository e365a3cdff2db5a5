package org.smalloc4j;

import java.util.OptionalLong;

/** The contract on a checked builder heap: checking must not change any documented behaviour. */
class SmallocCheckedContractTest extends AllocatorContract {

    @Override
    protected NativeAllocator createAllocator() {
        return Smalloc.builder().name("checked-contract").checked(true).build();
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
