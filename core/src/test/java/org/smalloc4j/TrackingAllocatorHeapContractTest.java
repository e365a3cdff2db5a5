package org.smalloc4j;

import java.util.OptionalLong;

import org.junit.jupiter.api.AfterEach;

/**
 * The contract on a tracker with a byte limit (far above what the cases use) over a builder heap:
 * segments keep the heap's scope; the heap is closed after each test, after the tracker.
 */
class TrackingAllocatorHeapContractTest extends AllocatorContract {

    private Smalloc heap;

    @Override
    protected NativeAllocator createAllocator() {
        heap = Smalloc.builder().name("tracked").build();
        return TrackingAllocator.builder(heap).byteLimit(1L << 40).build();
    }

    @AfterEach
    void closeHeap() {
        heap.close();
    }

    @Override
    protected boolean closable() {
        return true;
    }

    @Override
    protected boolean segmentsDieAtClose() {
        return false; // they are the heap's, which the tracker's close() leaves open
    }

    @Override
    protected OptionalLong liveBlocks() {
        TrackingAllocator tracking = (TrackingAllocator) allocator();
        return OptionalLong.of(tracking.allocationCount() - tracking.freeCount());
    }
}
