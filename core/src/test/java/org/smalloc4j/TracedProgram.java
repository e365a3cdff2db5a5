package org.smalloc4j;

/**
 * A program that allocates through {@link Allocators#global()} and exits without closing anything:
 * {@link AllocatorsTest} runs it in its own JVM with {@code -Dsmalloc4j.allocator=…} and
 * {@code -Dsmalloc4j.trace=…}. Prints the allocator's name and its figures.
 */
public final class TracedProgram {

    private TracedProgram() {
    }

    public static void main(String[] args) {
        NativeAllocator heap = Allocators.global();
        long kept = heap.alloc(1000, 8);
        for (int i = 1; i <= 100; i++) {
            long block = heap.alloc(i * 10L, 8);
            block = heap.realloc(block, i * 10L, 8, i * 20L);
            heap.dealloc(block, i * 20L, 8);
        }
        System.out.println(heap.name());
        if (heap instanceof TrackingAllocator tracking) {
            System.out.println(tracking.allocationCount() + " " + tracking.liveBytes() + " " + tracking.peakBytes());
        }
        System.out.println(kept != 0);
    }
}
