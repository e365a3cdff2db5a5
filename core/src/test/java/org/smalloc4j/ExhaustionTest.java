package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.smalloc4j.Patterns.hex;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exhaustion and limits everywhere (issue 6, part 6): every size class of a small heap filled until it
 * overflows into the larger ones and then fails; a {@link TrackingAllocator} byte limit over a heap that
 * runs out too; a {@link BumpArena} whose parent runs out; builder heaps until {@code mmap} refuses one.
 * After every failure, allocation works again once memory is freed, and no block lost its content.
 */
class ExhaustionTest {

    // a small heap: 2 slabs of 4 KiB per class, classes 2 (4 B) to 12 (4 KiB): 4096 slots in all
    private static final int SLABS = 2;
    private static final long SLAB_BYTES = 4096;
    private static final int MAX_CLASS = 12;

    private static Smalloc smallHeap(String name) {
        return Smalloc.builder().name(name).slabsPerClass(SLABS).slabBytes(SLAB_BYTES).largestSlot(1L << MAX_CLASS).build();
    }

    private static long slotsOfClass(int sizeClass) {
        return SLABS * (SLAB_BYTES >> sizeClass);
    }

    private record Block(long address, long byteSize, long seed) {
        void check(String when) {
            Patterns.check(address, byteSize, seed, "block " + hex(address) + " of " + byteSize + " B " + when);
        }
    }

    @ParameterizedTest(name = "class {0}")
    @ValueSource(ints = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void everyClassFillsThenOverflowsIntoEachLargerClassThenFails(int sizeClass) {
        long byteSize = (1L << sizeClass) - (sizeClass > 2 ? 1 : 0); // a size that needs this class
        try (Smalloc heap = smallHeap("exhaust-" + sizeClass)) {
            List<Block> blocks = new ArrayList<>();
            long[] servedByClass = new long[MAX_CLASS + 1];
            int previousClass = sizeClass;
            for (;;) {
                long address = heap.alloc(byteSize, 1);
                if (address == 0) {
                    break;
                }
                int servedBy = Long.numberOfTrailingZeros(heap.usableSize(address));
                assertTrue(servedBy >= previousClass, "class " + servedBy + " served after class " + previousClass
                        + ": overflow goes up, one class at a time, and never back while the lower is full");
                if (servedBy != previousClass) {
                    assertEquals(slotsOfClass(previousClass), servedByClass[previousClass],
                            "class " + previousClass + " was full before class " + servedBy + " served");
                }
                previousClass = servedBy;
                servedByClass[servedBy]++;
                Block block = new Block(address, byteSize, blocks.size() * 31L + sizeClass);
                Patterns.fill(address, byteSize, block.seed());
                blocks.add(block);
            }
            for (int sc = 2; sc <= MAX_CLASS; sc++) {
                assertEquals(sc < sizeClass ? 0 : slotsOfClass(sc), servedByClass[sc], "blocks served by class " + sc);
                assertEquals(sc < sizeClass ? 0 : slotsOfClass(sc), heap.stats().sizeClass(sc).slotsInUse(), "stats of class " + sc);
            }
            assertEquals(blocks.size(), blocks.stream().map(Block::address).distinct().count(), "an address twice");

            // every class from sizeClass up is full: each failure mode of both layers, and nothing moved
            assertEquals(0, heap.alloc(byteSize, 1));
            assertEquals(0, heap.allocZeroed(byteSize, 1));
            assertEquals(0, heap.alloc(1, 1L << sizeClass));
            assertEquals(0, heap.realloc(0, 0, 1, byteSize));
            OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> heap.allocate(byteSize));
            assertTrue(error.getMessage().contains("exhaust-" + sizeClass) && error.getMessage().contains(Long.toString(byteSize)),
                    error::getMessage);
            if (sizeClass > 2) {
                long small = heap.alloc(4, 1); // smaller classes are untouched
                assertEquals(4, heap.usableSize(small));
                Patterns.fill(small, 4, 5);
                assertEquals(0, heap.realloc(small, 4, 1, byteSize), "a realloc into the full classes fails");
                Patterns.check(small, 4, 5, "a block after its realloc failed");
                heap.dealloc(small, 4, 1);
            }
            for (Block block : blocks) {
                block.check("while classes " + sizeClass + " to " + MAX_CLASS + " are full");
            }

            // freeing one slot of any full class lets exactly one allocation through
            Block freed = blocks.remove(blocks.size() / 2);
            freed.check("before its free");
            heap.dealloc(freed.address(), freed.byteSize(), 1);
            long again = heap.alloc(byteSize, 1);
            assertEquals(freed.address(), again, "the freed slot is handed out again");
            Block reused = new Block(again, byteSize, -1);
            Patterns.fill(again, byteSize, reused.seed());
            blocks.add(reused);
            assertEquals(0, heap.alloc(byteSize, 1), "full again");

            // after freeing everything, the heap holds exactly as much again
            for (Block block : blocks) {
                block.check("after recovery");
                heap.dealloc(block.address(), block.byteSize(), 1);
            }
            assertEquals(0, heap.stats().slotsInUse());
            int refilled = 0;
            while (heap.alloc(byteSize, 1) != 0) {
                refilled++;
            }
            assertEquals(blocks.size(), refilled, "after freeing all, the same number of blocks fits again");
        }
    }

    @Test
    void byteLimitAndTheInnerHeapRunOutAndRecoverWithNothingLost() {
        // the heap's class 12 (and so requests of 2049..4096 B) holds 2 slots: the heap runs out before the
        // limit for 4 KiB blocks, the limit runs out first for small ones
        try (Smalloc heap = smallHeap("limited")) {
            long limit = 3 * 4096 + 100;
            TrackingAllocator tracking = TrackingAllocator.builder(heap).byteLimit(limit).build();
            List<Block> blocks = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                long address = tracking.alloc(4096, 8);
                assertNotEquals(0, address);
                Patterns.fill(address, 4096, i);
                blocks.add(new Block(address, 4096, i));
            }
            assertEquals(0, tracking.alloc(4096, 8), "the heap's largest class is full (8192 < limit)");
            assertEquals(1, tracking.failedCount());
            assertEquals(8192, tracking.liveBytes(), "a failed allocation counts nothing as live");
            OutOfMemoryError heapFull = assertThrows(OutOfMemoryError.class, () -> tracking.allocate(4096));
            assertTrue(heapFull.getMessage().contains("tracking:limited") && heapFull.getMessage().contains("4096"),
                    heapFull::getMessage);

            // small blocks until the limit: the limit, not the heap, refuses the last
            long small = 0;
            for (;;) {
                long address = tracking.alloc(1000, 8);
                if (address == 0) {
                    break;
                }
                small += 1000;
                Patterns.fill(address, 1000, small);
                blocks.add(new Block(address, 1000, small));
            }
            assertTrue(tracking.liveBytes() <= limit && tracking.liveBytes() + 1000 > limit, "live " + tracking.liveBytes());
            assertNotEquals(0, heap.alloc(1000, 8), "the heap itself still has room: the limit refused");
            assertEquals(tracking.liveBytes(), tracking.peakBytes());
            Block last = blocks.getLast();
            assertEquals(0, tracking.realloc(last.address(), 1000, 8, 2000), "growing past the limit");
            for (Block block : blocks) {
                block.check("at the limit");
            }

            // free one 4 KiB block: both the heap and the limit let one through again
            Block first = blocks.removeFirst();
            tracking.dealloc(first.address(), first.byteSize(), 8);
            long again = tracking.alloc(4096, 8);
            assertEquals(first.address(), again);
            Patterns.fill(again, 4096, 77);
            blocks.add(new Block(again, 4096, 77));
            assertEquals(0, tracking.alloc(4096, 8));
            for (Block block : blocks) {
                block.check("after recovery");
                tracking.dealloc(block.address(), block.byteSize(), 8);
            }
            assertEquals(0, tracking.liveBytes());
            assertNotEquals(0, tracking.alloc(4096, 8), "everything freed: allocation works again");
        }
    }

    @Test
    void bumpArenaWhoseParentRunsOutFailsThenRecoversAfterReset() {
        try (Smalloc heap = smallHeap("bump-parent"); BumpArena arena = BumpArena.of(heap, 4096)) {
            List<MemorySegment> segments = new ArrayList<>();
            OutOfMemoryError error = null;
            while (error == null) {
                try {
                    MemorySegment segment = arena.allocate(1000, 8);
                    Patterns.fill(segment, segments.size());
                    segments.add(segment);
                } catch (OutOfMemoryError e) {
                    error = e;
                }
                assertTrue(segments.size() < 10_000, "runaway allocation");
            }
            assertTrue(error.getMessage().contains(arena.name()) && error.getMessage().contains("1000"), error.getMessage());
            assertEquals(0, arena.alloc(1000, 8));
            for (int i = 0; i < segments.size(); i++) {
                Patterns.check(segments.get(i), i, "segment " + i + " of an arena whose parent is full");
            }
            int before = segments.size();
            arena.reset();
            for (int i = 0; i < before; i++) {
                MemorySegment segment = arena.allocate(1000, 8);
                Patterns.checkZero(segment, "a segment after reset");
            }
            assertThrows(OutOfMemoryError.class, () -> arena.allocate(1000, 8), "the same amount fits after reset, no more");
        }
    }

    @Test
    void heapsUntilMmapRefusesOneThenNothingIsLeftReservedAndHeapsBuildAgain() throws IOException {
        Smalloc.global().dealloc(Smalloc.global().alloc(8, 8), 8, 8); // reserved first, like a real process
        int fitted = fillAddressSpaceWithHeaps();
        int fittedAgain = fillAddressSpaceWithHeaps();
        assertEquals(fitted, fittedAgain, "after closing them, as many default heaps fit again: nothing stayed reserved");
    }

    /** Builds default heaps until one fails; checks the failure; closes them all. Returns how many fit. */
    private static int fillAddressSpaceWithHeaps() throws IOException {
        List<Smalloc> heaps = new ArrayList<>();
        List<Long> blocks = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                long virtualBefore = virtualBytes();
                try {
                    Smalloc heap = Smalloc.builder().name("fill-" + i).build();
                    heaps.add(heap);
                    long block = heap.alloc(64, 8);
                    Patterns.fill(block, 64, i);
                    blocks.add(block);
                } catch (IllegalStateException refused) {
                    String message = refused.getMessage();
                    long asked = Smalloc.DEFAULT_SLAB_BYTES * Smalloc.DEFAULT_SLABS_PER_CLASS * 32;
                    assertTrue(message.contains("fill-" + i) && message.contains("could not reserve")
                            && message.contains(Long.toString(asked)), message);
                    long virtualAfter = virtualBytes();
                    assertTrue(Math.abs(virtualAfter - virtualBefore) < (1L << 30),
                            "a refused heap leaves nothing reserved: VmSize " + virtualBefore + " -> " + virtualAfter);
                    assertTrue(i >= 2, "at least two default heaps fit beside the global heap, " + i + " did");

                    // after the failure, the heaps made keep their blocks, and freeing makes room again
                    for (int k = 0; k < heaps.size(); k++) {
                        Patterns.check(blocks.get(k), 64, k, "a block of heap " + k + " after a refused heap");
                    }
                    heaps.removeLast().close();
                    Smalloc replacement = Smalloc.builder().name("replacement").build();
                    heaps.add(replacement);
                    blocks.set(heaps.size() - 1, replacement.alloc(64, 8));
                    Patterns.fill(blocks.getLast(), 64, heaps.size() - 1);
                    System.out.println("ExhaustionTest: " + i + " default builder heaps fit beside the global heap; the next: "
                            + message);
                    return i;
                }
            }
            throw new AssertionError("64 default heaps of 8 TiB fit: mmap never refused");
        } finally {
            for (Smalloc heap : heaps) {
                heap.close();
            }
        }
    }

    /** VmSize of this process, in bytes. */
    private static long virtualBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }
}
