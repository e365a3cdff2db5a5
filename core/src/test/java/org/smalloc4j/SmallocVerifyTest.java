package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.smalloc4j.internal.SlabHeap;

/** {@link Smalloc#verify()}: silent on sound heaps, and it names what a corruption broke. */
class SmallocVerifyTest {

    private static Smalloc smallHeap(boolean checked) {
        // these tests corrupt the slab lists: thread caches would keep freed slots off them
        return Smalloc.builder().slabsPerClass(4).slabBytes(1 << 16).largestSlot(1 << 12).checked(checked)
                .threadCaches(false).name("verify").build();
    }

    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aHeapAfterManyThreadsOfRandomWorkIsSound(boolean checked) throws InterruptedException {
        long seed = Long.getLong("smalloc4j.seed", new SplittableRandom().nextLong());
        try (Smalloc heap = smallHeap(checked)) {
            ConcurrentLinkedQueue<Long> handedOver = new ConcurrentLinkedQueue<>(); // freed by another thread
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                SplittableRandom random = new SplittableRandom(seed + t);
                threads.add(Thread.ofPlatform().start(() -> {
                    List<Long> live = new ArrayList<>();
                    for (int i = 0; i < 20_000; i++) {
                        if (live.size() < 200 && random.nextBoolean()) {
                            long block = heap.alloc(64, 8);
                            if (block != 0) {
                                live.add(block);
                            }
                        } else if (!live.isEmpty()) {
                            long block = live.remove(random.nextInt(live.size()));
                            if (random.nextInt(4) == 0) {
                                handedOver.add(block);
                            } else {
                                heap.dealloc(block, 64, 8);
                            }
                        }
                        Long other = random.nextInt(4) == 0 ? handedOver.poll() : null;
                        if (other != null) {
                            heap.dealloc(other, 64, 8);
                        }
                    }
                    live.forEach(block -> heap.dealloc(block, 64, 8));
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            handedOver.forEach(block -> heap.dealloc(block, 64, 8));
            assertDoesNotThrow(heap::verify, "seed " + seed);
            assertTrue(heap.stats().slotsInUse() == 0, "seed " + seed);
        }
    }

    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aWriteAfterFreeIsFoundBeforeAnAllocationMeetsIt(boolean checked) {
        try (Smalloc heap = smallHeap(checked)) {
            long kept = heap.alloc(32, 8);
            long freed = heap.alloc(32, 8);
            heap.dealloc(freed, 32, 8);
            assertDoesNotThrow(heap::verify);
            MemorySegment.ofAddress(freed).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, 0x1234_5678_9ABC_DEF0L);
            IllegalStateException corrupt = assertThrows(IllegalStateException.class, heap::verify);
            assertTrue(corrupt.getMessage().contains("free slot 1 holds a corrupt link"), corrupt.getMessage());
            assertTrue(corrupt.getMessage().contains("size class 5"), corrupt.getMessage());
            heap.dealloc(kept, 32, 8);
        }
    }

    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aSlotPushedTwiceShowsAsACycle(boolean checked) {
        try (Smalloc heap = smallHeap(checked)) {
            SlabHeap slabs = heap.slabHeap();
            long block = heap.alloc(128, 8);
            long other = heap.alloc(128, 8);
            heap.dealloc(block, 128, 8);
            heap.dealloc(other, 128, 8); // the list: other -> block -> never touched
            // a second push of block, past the checks, as an unchecked double free does: block -> other -> block …
            long offset = slabs.layout().offsetOf(block);
            int sc = slabs.layout().sizeClassOf(offset);
            slabs.push(slabs.layout().slabOf(offset), sc, slabs.layout().slotNumberOf(offset, sc), offset);
            IllegalStateException corrupt = assertThrows(IllegalStateException.class, heap::verify);
            assertTrue(corrupt.getMessage().contains("longer than the slab (a cycle)"), corrupt.getMessage());
        }
    }

    @org.junit.jupiter.api.Test
    void aSlotTakenFromTheListWithoutBeingMarkedIsFoundOnACheckedHeap() {
        try (Smalloc heap = smallHeap(true)) {
            SlabHeap slabs = heap.slabHeap();
            long block = heap.alloc(128, 8);
            heap.dealloc(block, 128, 8);
            long offset = slabs.layout().offsetOf(block);
            int sc = slabs.layout().sizeClassOf(offset);
            slabs.pop(slabs.layout().slabOf(offset), sc); // off the list, but not marked handed out: lost
            IllegalStateException corrupt = assertThrows(IllegalStateException.class, heap::verify);
            assertTrue(corrupt.getMessage().contains("0 slots are marked handed out, but the list and the thread caches (0 slots) leave 1"),
                    corrupt.getMessage());
        }
    }

    @org.junit.jupiter.api.Test
    void aClosedHeapRefusesToVerify() {
        Smalloc heap = smallHeap(false);
        heap.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, heap::verify);
        assertTrue(closed.getMessage().contains("is closed"), closed.getMessage());
    }
}
