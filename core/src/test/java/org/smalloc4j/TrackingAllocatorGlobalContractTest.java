package org.smalloc4j;

import java.util.OptionalLong;

/**
 * The contract on a counters-only tracker over the process-wide heap: closable (every call throws
 * once it is closed) while its segments, of the global scope, live on.
 */
class TrackingAllocatorGlobalContractTest extends AllocatorContract {

    @Override
    protected NativeAllocator createAllocator() {
        return TrackingAllocator.of(Smalloc.global());
    }

    @Override
    protected boolean closable() {
        return true;
    }

    @Override
    protected boolean segmentsDieAtClose() {
        return false; // close() leaves Smalloc.global() open, and the segments are its
    }

    @Override
    protected OptionalLong liveBlocks() {
        TrackingAllocator tracking = (TrackingAllocator) allocator();
        return OptionalLong.of(tracking.allocationCount() - tracking.freeCount());
    }
}
