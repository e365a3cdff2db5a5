package org.smalloc4j;

import java.util.OptionalLong;

/** The contract on the process-wide heap: not closable, segments of the global scope. */
class SmallocGlobalContractTest extends AllocatorContract {

    @Override
    protected NativeAllocator createAllocator() {
        return Smalloc.global();
    }

    @Override
    protected OptionalLong liveBlocks() {
        // exact as long as tests run one at a time: nothing else allocates from the global heap meanwhile
        return OptionalLong.of(Smalloc.global().stats().slotsInUse());
    }
}
