package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.smalloc4j.internal.AddressLayout;
import org.smalloc4j.internal.HeadWord;
import org.smalloc4j.internal.SlabHeap;

/**
 * Looks inside a Smalloc heap ({@link Smalloc#slabHeap()}) to force the states that are rare in
 * practice: an ABA interleaving, a corrupted next-slot link, the last slot of a slab, a full size
 * class, a fresh slab. Every heap is a small builder heap: 64 KiB slabs, slots up to 4 KiB.
 */
class SmallocWhiteBoxTest {

    private static final long SLAB_BYTES = 1 << 16;
    private static final long LARGEST_SLOT = 1 << 12;

    private static Smalloc smallHeap(int slabsPerClass) {
        // these tests look at the slab lists: thread caches would keep freed slots off them
        return Smalloc.builder().slabsPerClass(slabsPerClass).slabBytes(SLAB_BYTES).largestSlot(LARGEST_SLOT)
                .threadCaches(false).name("whitebox").build();
    }

    private static long addressOf(SlabHeap heap, int slab, int sizeClass, int slot) {
        AddressLayout layout = heap.layout();
        return layout.base() + layout.offsetOf(slab, sizeClass, slot);
    }

    private static int slabOf(SlabHeap heap, long address) {
        return heap.layout().slabOf(heap.layout().offsetOf(address));
    }

    private static int sizeClassOf(SlabHeap heap, long address) {
        return heap.layout().sizeClassOf(heap.layout().offsetOf(address));
    }

    /** The entry naming {@code slot} as touched, built by the head word's own code. */
    private static int touchedEntry(int slot) {
        return HeadWord.entry(HeadWord.pushed(0, slot));
    }

    // ------------------------------------------------------------ ABA

    @Test
    void pushCounterDefeatsAForcedAbaInterleaving() throws InterruptedException {
        try (Smalloc smalloc = smallHeap(2)) {
            SlabHeap heap = smalloc.slabHeap();
            final int sc = 4;
            final long size = 1L << sc;
            final int slab = heap.currentSlab();
            final int slotA = 0;
            final int slotB = 1;
            long a = smalloc.alloc(size, 1);
            long b = smalloc.alloc(size, 1);
            assertEquals(addressOf(heap, slab, sc, slotA), a);
            assertEquals(addressOf(heap, slab, sc, slotB), b);
            smalloc.dealloc(b, size, 1);
            smalloc.dealloc(a, size, 1); // the list: A -> B -> never-touched slot 2

            long stale = heap.headWord(slab, sc); // "this thread" reads the head, then stalls
            assertTrue(HeadWord.touched(HeadWord.entry(stale)));
            assertEquals(slotA, HeadWord.slotNumber(HeadWord.entry(stale)));

            long[] popped = new long[2];
            Thread other = new Thread(() -> { // another thread: pop A, pop B, push A back
                popped[0] = heap.pop(slab, sc);
                popped[1] = heap.pop(slab, sc);
                heap.push(slab, sc, slotA, heap.layout().offsetOf(slab, sc, slotA));
            }, "aba-other");
            other.start();
            other.join();
            assertEquals(slotA, popped[0], "the other thread pops A");
            assertEquals(slotB, popped[1], "the other thread pops B, which stays allocated");

            long current = heap.headWord(slab, sc);
            assertEquals(HeadWord.slotNumber(HeadWord.entry(stale)), HeadWord.slotNumber(HeadWord.entry(current)),
                    "A is at the head again: the slot number part cannot tell the difference");
            assertEquals(HeadWord.entry(stale), HeadWord.entry(current));
            assertNotEquals(HeadWord.pushCount(stale), HeadWord.pushCount(current), "only the push counter differs");
            assertEquals(HeadWord.pushCount(stale) + 1, HeadWord.pushCount(current));

            assertEquals(SlabHeap.CONTENDED, heap.popFrom(slab, sc, stale), "a pop with the stale head must fail");
            assertEquals(current, heap.headWord(slab, sc), "the failed pop leaves the head alone");

            // consistency: the slab hands out A, then every never-touched slot, and never B
            int slotCount = heap.layout().slotsPerSlab(sc);
            Set<Long> handedOut = new HashSet<>();
            for (int i = 0; i < slotCount - 1; i++) {
                long p = smalloc.alloc(size, 1);
                assertNotEquals(0, p);
                if (i == 0) {
                    assertEquals(a, p, "A comes first (LIFO)");
                }
                assertEquals(slab, slabOf(heap, p), "allocation " + i + " stays in the slab");
                assertNotEquals(b, p, "B is allocated and must not be handed out again");
                assertTrue(handedOut.add(p), "address handed out twice: 0x" + Long.toHexString(p));
            }
            long next = smalloc.alloc(size, 1);
            assertNotEquals(0, next);
            assertNotEquals(slab, slabOf(heap, next), "the slab is full: the next block comes from another slab");
            assertFalse(handedOut.contains(next));
        }
    }

    @Test
    void stalePopAfterAnotherPopIsContended() {
        try (Smalloc smalloc = smallHeap(2)) {
            SlabHeap heap = smalloc.slabHeap();
            final int sc = 3;
            final int slab = heap.currentSlab();
            long stale = heap.headWord(slab, sc);
            assertEquals(0 | SlabHeap.FRESH, heap.pop(slab, sc));
            assertEquals(SlabHeap.CONTENDED, heap.popFrom(slab, sc, stale), "slot 0 is gone already");
            assertEquals(1 | SlabHeap.FRESH, heap.pop(slab, sc));
        }
    }

    // ------------------------------------------------------------ corrupt links

    /** What a write after free leaves in the first 8 bytes of a free slot of 8 bytes or more. */
    enum LongCorruption {
        GARBAGE {
            @Override
            long link(int slot, int slotCount) {
                return 0xDEAD_BEEF_CAFE_BABEL; // check half does not match
            }
        },
        ZERO {
            @Override
            long link(int slot, int slotCount) {
                return 0; // a memset to zero
            }
        },
        INTACT_BUT_POINTS_AT_ITSELF {
            @Override
            long link(int slot, int slotCount) {
                return HeadWord.link(touchedEntry(slot));
            }
        },
        INTACT_BUT_SLOT_COUNT {
            @Override
            long link(int slot, int slotCount) {
                return HeadWord.link(touchedEntry(slotCount));
            }
        },
        INTACT_BUT_BEYOND_THE_END {
            @Override
            long link(int slot, int slotCount) {
                return HeadWord.link(HeadWord.untouched(slotCount + 1));
            }
        },
        INTACT_BUT_UNTOUCHED_BACKWARDS {
            @Override
            long link(int slot, int slotCount) {
                return HeadWord.link(HeadWord.untouched(slot)); // never-touched slots lie above every touched one
            }
        };

        abstract long link(int slot, int slotCount);
    }

    /** What a write after free leaves in a free 4-byte slot (it holds the entry alone). */
    enum IntCorruption {
        TOUCHED_SLOT_COUNT {
            @Override
            int entry(int slot, int slotCount) {
                return touchedEntry(slotCount);
            }
        },
        TOUCHED_FAR_OUT_OF_RANGE {
            @Override
            int entry(int slot, int slotCount) {
                return touchedEntry(slotCount + 12345);
            }
        },
        UNTOUCHED_BEYOND_THE_END {
            @Override
            int entry(int slot, int slotCount) {
                return HeadWord.untouched(slotCount + 1);
            }
        },
        POINTS_AT_ITSELF {
            @Override
            int entry(int slot, int slotCount) {
                return touchedEntry(slot);
            }
        },
        ALL_ONES {
            @Override
            int entry(int slot, int slotCount) {
                return -1;
            }
        };

        abstract int entry(int slot, int slotCount);
    }

    @ParameterizedTest
    @EnumSource(LongCorruption.class)
    void corruptLinkInAnEightByteOrLargerSlotIsReportedNotFollowed(LongCorruption corruption) {
        for (int sc : new int[] {3, 5, 12}) {
            corruptLinkIsReportedNotFollowed(sc, (address, slot, slotCount) -> MemorySegment.ofAddress(address)
                    .reinterpret(8).set(ValueLayout.JAVA_LONG, 0, corruption.link(slot, slotCount)), corruption.name());
        }
    }

    @ParameterizedTest
    @EnumSource(IntCorruption.class)
    void corruptSlotNumberInAFourByteSlotIsReportedNotFollowed(IntCorruption corruption) {
        corruptLinkIsReportedNotFollowed(AddressLayout.MIN_CLASS, (address, slot, slotCount) -> MemorySegment
                .ofAddress(address).reinterpret(4).set(ValueLayout.JAVA_INT, 0, corruption.entry(slot, slotCount)),
                corruption.name());
    }

    @FunctionalInterface
    private interface WriteAfterFree {
        void write(long address, int slot, int slotCount);
    }

    private static void corruptLinkIsReportedNotFollowed(int sc, WriteAfterFree writeAfterFree, String what) {
        final long size = 1L << sc;
        try (Smalloc smalloc = smallHeap(2)) {
            SlabHeap heap = smalloc.slabHeap();
            final int slab = heap.currentSlab();
            final int slotCount = heap.layout().slotsPerSlab(sc);
            final int victim = 1;
            long[] blocks = new long[4];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = smalloc.alloc(size, 1);
                assertEquals(addressOf(heap, slab, sc, i), blocks[i]);
                BlockPattern.fill(BlockPattern.raw(blocks[i], size), i + 1);
            }
            smalloc.dealloc(blocks[victim], size, 1);
            writeAfterFree.write(blocks[victim], victim, slotCount);

            IllegalStateException e = assertThrows(IllegalStateException.class, () -> smalloc.alloc(size, 1),
                    what + ", class " + sc + ": the corrupt link must not be followed");
            String message = e.getMessage();
            assertTrue(Pattern.compile("\\bslab " + slab + "\\b").matcher(message).find(), "names the slab: " + message);
            assertTrue(Pattern.compile("\\bslot " + victim + "\\b").matcher(message).find(), "names the slot: " + message);
            assertTrue(message.contains(Long.toHexString(blocks[victim])), "names the address: " + message);

            assertEquals(SlabHeap.EMPTY, heap.pop(slab, sc), "the corrupt list is set aside");
            List<Long> later = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                long p = smalloc.alloc(size, 1);
                assertNotEquals(0, p, what + ", class " + sc + ": later allocations succeed");
                assertNotEquals(slab, slabOf(heap, p), "served from another slab");
                assertEquals(sc, sizeClassOf(heap, p));
                BlockPattern.fill(BlockPattern.raw(p, size), 100 + i);
                later.add(p);
            }
            for (int i = 0; i < blocks.length; i++) {
                if (i != victim) {
                    BlockPattern.check(BlockPattern.raw(blocks[i], size), i + 1, what + ", class " + sc);
                }
            }
            for (int i = 0; i < later.size(); i++) {
                BlockPattern.check(BlockPattern.raw(later.get(i), size), 100 + i, what + ", class " + sc);
            }
            // slots freed after the set-aside start a new, sound list
            smalloc.dealloc(blocks[0], size, 1);
            assertEquals(0, heap.pop(slab, sc));
            assertEquals(SlabHeap.EMPTY, heap.pop(slab, sc));
        }
    }

    @Test
    void corruptLinkDeeperInTheListStopsAllocationOnlyWhenReached() {
        final int sc = 6;
        final long size = 1L << sc;
        try (Smalloc smalloc = smallHeap(2)) {
            SlabHeap heap = smalloc.slabHeap();
            final int slab = heap.currentSlab();
            long[] blocks = new long[4];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = smalloc.alloc(size, 1);
            }
            smalloc.dealloc(blocks[2], size, 1);
            smalloc.dealloc(blocks[1], size, 1); // the list: 1 -> 2 -> never-touched 4
            BlockPattern.raw(blocks[2], 8).set(ValueLayout.JAVA_LONG, 0, 0x0123_4567_89AB_CDEFL);

            assertEquals(blocks[1], smalloc.alloc(size, 1), "slot 1's own link is sound");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> smalloc.alloc(size, 1));
            assertTrue(e.getMessage().contains("slot 2"), e.getMessage());
            assertTrue(e.getMessage().contains("slab " + slab), e.getMessage());
            long p = smalloc.alloc(size, 1);
            assertNotEquals(0, p);
            assertNotEquals(slab, slabOf(heap, p));
        }
    }

    // ------------------------------------------------------------ the last slot of a slab

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 8, 12})
    void lastSlotOfASlabIsHandedOutAndComesBack(int sc) {
        final long size = 1L << sc;
        try (Smalloc smalloc = smallHeap(2)) {
            SlabHeap heap = smalloc.slabHeap();
            final int slab = heap.currentSlab();
            final int slotCount = heap.layout().slotsPerSlab(sc);
            assertEquals(SLAB_BYTES / size, slotCount, "a slab holds exactly slabBytes / slot size slots");
            long last = 0;
            for (int i = 0; i < slotCount; i++) {
                last = smalloc.alloc(size, 1);
                assertEquals(addressOf(heap, slab, sc, i), last, "allocation " + i);
            }
            assertEquals(heap.layout().base() + heap.layout().offsetOf(slab, sc, slotCount - 1), last);
            assertEquals(HeadWord.untouched(slotCount), HeadWord.entry(heap.headWord(slab, sc)),
                    "the head is at the end entry");

            long other = smalloc.alloc(size, 1);
            assertNotEquals(0, other);
            assertNotEquals(slab, slabOf(heap, other), "a full slab fails over to another");
            assertEquals(sc, sizeClassOf(heap, other));
            int otherSlab = slabOf(heap, other);
            for (int i = 1; i < slotCount; i++) { // fill the other slab too: the whole class is full
                long p = smalloc.alloc(size, 1);
                assertEquals(addressOf(heap, otherSlab, sc, i), p);
            }
            long overflow = smalloc.alloc(size, 1);
            if (sc == heap.layout().maxClass()) {
                assertEquals(0, overflow, "the largest class is full");
            } else {
                assertEquals(sc + 1, sizeClassOf(heap, overflow), "a full class overflows to the next");
            }

            smalloc.dealloc(last, size, 1);
            assertEquals(last, smalloc.alloc(size, 1), "the last slot comes back");
            if (sc == heap.layout().maxClass()) {
                assertEquals(0, smalloc.alloc(size, 1));
            }
        }
    }

    // ------------------------------------------------------------ a full class

    @Test
    void fullClassesReturnZeroKeepContentsAndRecover() {
        final long size = 1000; // class 10; classes 10, 11 and 12 fill up
        try (Smalloc smalloc = smallHeap(2)) {
            SlabHeap heap = smalloc.slabHeap();
            List<Long> blocks = new ArrayList<>();
            for (;;) {
                long p = smalloc.alloc(size, 1);
                if (p == 0) {
                    break;
                }
                BlockPattern.fill(BlockPattern.raw(p, size), p);
                blocks.add(p);
                assertTrue(blocks.size() <= 1000, "runaway allocation");
            }
            int expected = 0;
            for (int sc = 10; sc <= 12; sc++) {
                expected += 2 * heap.layout().slotsPerSlab(sc);
            }
            assertEquals(expected, blocks.size(), "classes 10 to 12 of both slabs are handed out, no more");
            assertEquals(blocks.size(), new HashSet<>(blocks).size(), "no address twice");
            assertEquals(0, smalloc.alloc(size, 1));
            assertEquals(0, smalloc.alloc(LARGEST_SLOT, 1));
            OutOfMemoryError oom = assertThrows(OutOfMemoryError.class, () -> smalloc.allocate(size, 1));
            assertTrue(oom.getMessage().contains("whitebox") && oom.getMessage().contains("1000"), oom.getMessage());
            SmallocStats stats = smalloc.stats();
            for (int sc = 10; sc <= 12; sc++) {
                assertEquals(2L * heap.layout().slotsPerSlab(sc), stats.sizeClass(sc).slotsInUse(), "class " + sc);
            }
            long small = smalloc.alloc(8, 1);
            assertNotEquals(0, small, "smaller classes are not affected");
            smalloc.dealloc(small, 8, 1);
            for (long p : blocks) {
                BlockPattern.check(BlockPattern.raw(p, size), p, "after exhaustion");
            }

            Set<Long> freed = new HashSet<>();
            for (int i = 0; i < blocks.size(); i += 3) {
                long p = blocks.get(i);
                BlockPattern.check(BlockPattern.raw(p, size), p, "before free");
                smalloc.dealloc(p, size, 1);
                freed.add(p);
            }
            List<Long> live = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                if (i % 3 != 0) {
                    live.add(blocks.get(i));
                }
            }
            for (int i = 0; i < freed.size(); i++) {
                long p = smalloc.alloc(size, 1);
                assertNotEquals(0, p, "allocation " + i + " after freeing " + freed.size() + " blocks");
                assertTrue(freed.contains(p), "a freed slot comes back: 0x" + Long.toHexString(p));
                BlockPattern.fill(BlockPattern.raw(p, size), ~p);
                live.add(p);
            }
            assertEquals(0, smalloc.alloc(size, 1), "full again");
            assertEquals(live.size(), new HashSet<>(live).size(), "no address twice");
            for (int i = 0; i < live.size(); i++) {
                long p = live.get(i);
                boolean reused = freed.contains(p);
                BlockPattern.check(BlockPattern.raw(p, size), reused ? ~p : p, "after recovery");
            }
        }
    }

    // ------------------------------------------------------------ a fresh slab

    @Test
    void freshSlabHeadIsZeroAndHandsOutSlotsInOrder() {
        try (Smalloc smalloc = smallHeap(4)) {
            SlabHeap heap = smalloc.slabHeap();
            AddressLayout layout = heap.layout();
            for (int slab = 0; slab < layout.slabs(); slab++) {
                for (int sc = AddressLayout.MIN_CLASS; sc <= layout.maxClass(); sc++) {
                    assertEquals(0, heap.headWord(slab, sc), "slab " + slab + ", class " + sc);
                }
            }
            final int sc = 7;
            final long size = 1L << sc;
            final int slab = heap.currentSlab();
            long other = smalloc.alloc(8, 1); // another class of the same slab
            assertEquals(0, heap.headWord(slab, sc), "untouched until its first pop");
            smalloc.dealloc(other, 8, 1);
            assertEquals(0, heap.headWord(slab, sc));

            for (int n = 0; n < 10; n++) {
                long offset = heap.allocate(sc);
                assertTrue((offset & SlabHeap.ZEROED) != 0, "a never-touched slot is known zero");
                long p = layout.base() + (offset & ~SlabHeap.ZEROED);
                assertEquals(addressOf(heap, slab, sc, n), p, "allocation " + n + " is slot " + n);
                assertEquals(-1, BlockPattern.firstNonZero(BlockPattern.raw(p, size)));
                long head = heap.headWord(slab, sc);
                assertFalse(HeadWord.touched(HeadWord.entry(head)));
                assertEquals(n + 1, head, "lazy init: the head names the next never-touched slot, counter 0");
                BlockPattern.fill(BlockPattern.raw(p, size), n);
            }
            long third = addressOf(heap, slab, sc, 3);
            smalloc.dealloc(third, size, 1);
            long head = heap.headWord(slab, sc);
            assertTrue(HeadWord.touched(HeadWord.entry(head)));
            assertEquals(3, HeadWord.slotNumber(HeadWord.entry(head)));
            assertEquals(1, HeadWord.pushCount(head));

            long again = heap.allocate(sc);
            assertEquals(0, again & SlabHeap.ZEROED, "a reused slot is not known zero");
            assertEquals(third, layout.base() + again);
            assertEquals((1L << 32) | 10, heap.headWord(slab, sc), "back to never-touched slot 10, counter 1");
            assertEquals(addressOf(heap, slab, sc, 10), smalloc.alloc(size, 1), "lazy init goes on at slot 10");

            int freshSlab = (slab + 1) % layout.slabs();
            assertEquals(0 | SlabHeap.FRESH, heap.pop(freshSlab, sc));
            assertEquals(1, heap.headWord(freshSlab, sc));
        }
    }
}
