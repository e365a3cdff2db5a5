package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.smalloc4j.Patterns.assertAligned;
import static org.smalloc4j.Patterns.assertNamesAddress;
import static org.smalloc4j.Patterns.hex;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.smalloc4j.internal.AddressLayout;
import org.smalloc4j.internal.Native;

/**
 * Smalloc's own behaviour beyond the contract: the size-class table, failover and overflow, LIFO
 * reuse, zeroing and page release, realloc in place, the builder, heap queries, checked mode.
 * Most cases use a small heap (a few MiB of address space) so that filling a slab or a whole class
 * is cheap.
 */
class SmallocTest {

    /** 2 slabs per class of 64 KiB each, slots up to 64 KiB: the largest class holds 2 slots in all. */
    private static Smalloc tinyHeap() {
        return Smalloc.builder().name("tiny").largestSlot(1 << 16).slabBytes(1 << 16).slabsPerClass(2).build();
    }

    /** The smallest power of two that is at least {@code n} (and at least 1). */
    private static long ceilPowerOfTwo(long n) {
        return n <= 1 ? 1 : Long.highestOneBit(n - 1) << 1;
    }

    private static int slabOf(Smalloc heap, long address) {
        AddressLayout layout = heap.slabHeap().layout();
        return layout.slabOf(address - layout.base());
    }

    // ------------------------------------------------------------ size classes

    @Test
    void sizeClassTableGivesTheSmallestFittingPowerOfTwoAlignedToItself() {
        try (Smalloc heap = tinyHeap()) {
            long largest = heap.largestSlot();
            TreeSet<Long> sizes = new TreeSet<>(List.of(0L));
            for (long p = 1; p <= largest; p <<= 1) {
                sizes.addAll(List.of(p - 1, p, p + 1));
            }
            int pairs = 0;
            for (long byteAlignment = 1; byteAlignment <= largest; byteAlignment <<= 1) {
                for (long byteSize : sizes) {
                    String what = "alloc(" + byteSize + ", " + byteAlignment + ")";
                    long expected = Math.max(4, ceilPowerOfTwo(Math.max(byteSize, byteAlignment)));
                    assertEquals(expected, 1L << AddressLayout.sizeClassFor(byteSize, byteAlignment), what);
                    long address = heap.alloc(byteSize, byteAlignment);
                    if (expected > largest) {
                        assertEquals(0, address, what + " is above the largest slot " + largest);
                        continue;
                    }
                    assertNotEquals(0, address, what);
                    assertEquals(expected, heap.usableSize(address), what);
                    assertAligned(address, expected, what + ": a slot is aligned to its size");
                    heap.dealloc(address, byteSize, byteAlignment);
                    pairs++;
                }
            }
            assertTrue(pairs > 700, "only " + pairs + " pairs tried");
        }
    }

    @Test
    void fullSlabFailsOverToTheOtherSlabThenAFullClassOverflowsToTheNextClass() {
        try (Smalloc heap = tinyHeap()) {
            int home = heap.slabHeap().currentSlab();
            int other = 1 - home;
            int sizeClass = 12;
            int perSlab = heap.slabHeap().layout().slotsPerSlab(sizeClass); // 64 KiB / 4 KiB
            assertEquals(16, perSlab);
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < perSlab; i++) {
                long address = heap.alloc(4096, 1);
                assertEquals(home, slabOf(heap, address), "block " + i + " at " + hex(address));
                blocks.add(address);
            }
            SmallocStats.SizeClass stats = heap.stats().sizeClass(sizeClass);
            assertEquals(perSlab, stats.slabs().get(home).slotsInUse());
            assertEquals(0, stats.slabs().get(other).slotsInUse());

            long overflow = heap.alloc(4096, 1);
            assertEquals(other, slabOf(heap, overflow), "the first block after a full slab: " + hex(overflow));
            assertEquals(4096, heap.usableSize(overflow));
            blocks.add(overflow);
            assertEquals(1, heap.stats().sizeClass(sizeClass).slabs().get(other).slotsInUse());

            for (int i = 1; i < perSlab; i++) {
                long address = heap.alloc(4096, 1);
                assertEquals(other, slabOf(heap, address));
                assertEquals(4096, heap.usableSize(address));
                blocks.add(address);
            }
            assertEquals(2L * perSlab, heap.stats().sizeClass(sizeClass).slotsInUse());
            long nextClass = heap.alloc(4096, 1);
            assertNotEquals(0, nextClass);
            assertEquals(8192, heap.usableSize(nextClass), "every slab of 4 KiB is full: the next class serves");
            assertEquals(1, heap.stats().sizeClass(sizeClass + 1).slotsInUse());
            blocks.add(nextClass);

            assertEquals(blocks.size(), new HashSet<>(blocks).size(), "a block was handed out twice");
            for (long address : blocks) {
                heap.dealloc(address, 4096, 1);
            }
            assertEquals(0, heap.stats().slotsInUse());
            assertEquals(4096, heap.usableSize(heap.alloc(4096, 1)), "after frees, 4 KiB blocks come from their class again");
        }
    }

    @Test
    void exhaustedLargestClassFailsThenRecoversAfterAFree() {
        try (Smalloc heap = tinyHeap()) {
            List<MemorySegment> live = new ArrayList<>();
            for (long byteSize : new long[] {1 << 16, 1 << 16, 1 << 15, 1 << 15, 1 << 15, 1 << 15, 100, 100, 4096}) {
                MemorySegment segment = heap.allocate(byteSize);
                Patterns.fill(segment, live.size());
                live.add(segment);
            }
            // classes 15 and 16 are full, and nothing is above 16
            assertEquals(0, heap.alloc(1 << 16, 1));
            assertEquals(0, heap.alloc(1 << 15, 1));
            assertEquals(0, heap.alloc(40_000, 8));
            assertEquals(0, heap.alloc(1, 1 << 16));
            assertEquals(0, heap.allocZeroed(1 << 16, 1));
            assertEquals(0, heap.alloc((1 << 16) + 1, 1));
            OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> heap.allocate(1 << 16));
            assertTrue(error.getMessage().contains("tiny") && error.getMessage().contains("65536"), error::getMessage);
            MemorySegment small = live.get(6);
            assertEquals(0, heap.realloc(small.address(), 100, 1, 1 << 16), "realloc into a full class");
            assertThrows(OutOfMemoryError.class, () -> heap.reallocate(small, 1 << 15));
            for (int i = 0; i < live.size(); i++) {
                Patterns.check(live.get(i), i, "block " + i + " while the largest class is full");
            }

            heap.free(live.get(1));
            MemorySegment again = heap.allocate(1 << 16);
            assertEquals(live.get(1).address(), again.address(), "the freed slot is the one handed out again");
            Patterns.checkZero(again, "a reused 64 KiB slot");
            live.set(1, again);
            Patterns.fill(again, 1);
            for (int i = 0; i < live.size(); i++) {
                Patterns.check(live.get(i), i, "block " + i + " after recovery");
                heap.free(live.get(i));
            }
            assertEquals(0, heap.stats().slotsInUse());
        }
    }

    @Test
    void smallestHeapHandsOutEverySlotThenFails() {
        // 8-byte slabs, one per class: two 4-byte slots and one 8-byte slot in the whole heap
        try (Smalloc heap = Smalloc.builder().name("smallest").slabsPerClass(1).slabBytes(8).largestSlot(8).build()) {
            long first = heap.alloc(4, 1);
            long second = heap.alloc(1, 1);
            long third = heap.alloc(0, 1);
            assertEquals(List.of(4L, 4L, 8L), List.of(heap.usableSize(first), heap.usableSize(second), heap.usableSize(third)));
            assertEquals(0, heap.alloc(1, 1));
            assertEquals(0, heap.alloc(9, 1));
            Patterns.fill(first, 4, 1);
            Patterns.fill(second, 4, 2);
            Patterns.fill(third, 8, 3);
            heap.dealloc(second, 1, 1);
            assertEquals(second, heap.alloc(3, 1));
            Patterns.check(first, 4, 1, "first");
            Patterns.check(third, 8, 3, "third");
        }
    }

    @ParameterizedTest(name = "slabsPerClass {0}, slabBytes {1}, largestSlot {2}")
    @CsvSource({"1, 8, 8", "64, 8, 8", "1, 64, 64", "2, 256, 8", "4, 128, 128"})
    void everyLegalShapeBuildsEvenBelowAPageOfAddressSpace(int slabsPerClass, long slabBytes, long largestSlot) {
        // reservations of 32 B, 2 KiB, 512 B, 2 KiB and (the last) exactly one 4 KiB page
        try (Smalloc heap = Smalloc.builder().slabsPerClass(slabsPerClass).slabBytes(slabBytes).largestSlot(largestSlot).build()) {
            long address = heap.alloc(largestSlot, 1);
            assertNotEquals(0, address);
            Patterns.fill(address, largestSlot, 5);
            Patterns.check(address, largestSlot, 5, heap.toString());
            heap.dealloc(address, largestSlot, 1);
        }
    }

    // ------------------------------------------------------------ reuse and zeroing

    @ParameterizedTest(name = "byteSize {0}")
    @ValueSource(longs = {0, 4, 24, 100, 4096, 65536, 1 << 20, 3 << 20})
    void freedSlotIsTheNextOneHandedOut(long byteSize) {
        for (Smalloc heap : List.of(Smalloc.global(), Smalloc.builder().build())) {
            try (heap) {
                long address = heap.alloc(byteSize, 1);
                heap.dealloc(address, byteSize, 1);
                assertEquals(address, heap.alloc(byteSize, 1), heap.name() + ": LIFO reuse of " + byteSize + " B");
                long same = heap.usableSize(address);
                heap.dealloc(address, byteSize, 1);
                assertEquals(address, heap.alloc(same, 1), heap.name() + ": another size of the same class");

                long second = heap.alloc(byteSize, 1);
                heap.dealloc(address, byteSize, 1);
                heap.dealloc(second, byteSize, 1);
                assertEquals(second, heap.alloc(byteSize, 1), "last freed, first handed out");
                assertEquals(address, heap.alloc(byteSize, 1));
                heap.dealloc(address, byteSize, 1);
                heap.dealloc(second, byteSize, 1);

                MemorySegment segment = heap.allocate(byteSize);
                heap.free(segment);
                MemorySegment reused = heap.allocate(byteSize);
                assertEquals(segment.address(), reused.address(), "LIFO through allocate and free");
                heap.free(reused);
            }
        }
    }

    static Stream<Arguments> zeroingCases() {
        TreeSet<Long> sizes = new TreeSet<>(List.of(5L, 3000L, 100_000L, (1L << 20) + 1, 3L << 20));
        for (long p = 4; p <= 4 << 20; p <<= 1) {
            sizes.add(p);
        }
        return Stream.of(Smalloc.DEFAULT_RELEASE_THRESHOLD, Native.PAGE_SIZE, Long.MAX_VALUE)
                .flatMap(threshold -> sizes.stream().map(size -> Arguments.of(size, threshold)));
    }

    @ParameterizedTest(name = "byteSize {0}, releaseThreshold {1}")
    @MethodSource("zeroingCases")
    void zeroedAllocationIsZeroOnFreshAndOnDirtiedSlots(long byteSize, long releaseThreshold) {
        try (Smalloc heap = Smalloc.builder().releaseThreshold(releaseThreshold).build()) {
            long fresh = heap.allocZeroed(byteSize, 1);
            Patterns.checkZero(fresh, byteSize, "allocZeroed of a fresh slot");
            Patterns.fillBytes(fresh, heap.usableSize(fresh), (byte) 0xFF); // dirty the whole slot
            heap.dealloc(fresh, byteSize, 1);

            long reused = heap.allocZeroed(byteSize, 1);
            assertEquals(fresh, reused, "LIFO: the dirtied slot comes back");
            Patterns.checkZero(reused, byteSize, "allocZeroed of a dirtied slot");
            Patterns.fillBytes(reused, heap.usableSize(reused), (byte) 0xFF);
            heap.dealloc(reused, byteSize, 1);

            MemorySegment segment = heap.allocate(byteSize);
            assertEquals(fresh, segment.address());
            Patterns.checkZero(segment, "allocate of a dirtied slot");
            segment.fill((byte) 0x5A);
            heap.free(segment);

            MemorySegment smaller = heap.allocate(byteSize / 2 + 1, 1);
            Patterns.checkZero(smaller, "allocate of a smaller size on a dirtied slot");
            heap.free(smaller);
        }
    }

    // ------------------------------------------------------------ realloc

    @Test
    void reallocWithinTheSlotStaysInPlace() {
        try (Smalloc heap = Smalloc.builder().build()) {
            long address = heap.alloc(100, 1);
            Patterns.fill(address, 100, 9);
            assertEquals(address, heap.realloc(address, 100, 1, 50), "shrink");
            Patterns.check(address, 50, 9, "after shrinking");
            assertEquals(address, heap.realloc(address, 50, 1, 128), "grow within the 128-byte slot");
            Patterns.check(address, 50, 9, "after growing in place");
            assertEquals(address, heap.realloc(address, 128, 1, 0), "to size 0");
            assertEquals(address, heap.realloc(address, 0, 1, 128), "back from size 0");
            Patterns.fill(address, 128, 10);
            long moved = heap.realloc(address, 128, 1, 129);
            assertNotEquals(address, moved, "129 bytes do not fit a 128-byte slot");
            assertEquals(256, heap.usableSize(moved), "below a page, a grower gets no headroom");
            Patterns.check(moved, 128, 10, "after moving");
            heap.dealloc(moved, 129, 1);

            long aligned = heap.alloc(64, 64);
            assertEquals(aligned, heap.realloc(aligned, 64, 64, 32));
            assertEquals(aligned, heap.realloc(aligned, 32, 64, 64));
            long realigned = heap.realloc(aligned, 64, 128, 64);
            assertAligned(realigned, 128, "realloc to a larger alignment");
            heap.dealloc(realigned, 64, 128);

            long large = heap.alloc(1 << 20, 1);
            Patterns.fill(large, 4096, 11);
            assertEquals(large, heap.realloc(large, 1 << 20, 1, 10), "a large block shrinks in place");
            Patterns.check(large, 10, 11, "after shrinking a large block");
            heap.dealloc(large, 10, 1);
        }
    }

    @Test
    void growerMovedToALargeClassStaysInPlaceOnItsNextDoublings() {
        try (Smalloc heap = Smalloc.builder().build()) {
            long size = 4096;
            long address = heap.alloc(size, 1);
            assertEquals(4096, heap.usableSize(address));
            Patterns.fill(address, size, 12);

            long grown = heap.realloc(address, size, 1, 2 * size);
            assertNotEquals(address, grown, "a full page cannot grow in place");
            long slot = heap.usableSize(grown);
            assertTrue(slot >= 1 << 16 && slot >= 4 * 2 * size, "a grower past a page got a slot of only " + slot);
            Patterns.check(grown, size, 12, "after moving to a large class");
            size *= 2;
            Patterns.fill(grown, size, 12);
            for (; size * 2 <= slot; size *= 2) {
                long next = heap.realloc(grown, size, 1, size * 2);
                assertEquals(grown, next, "doubling " + size + " -> " + size * 2 + " in a " + slot + "-byte slot");
                Patterns.check(next, size, 12, "after doubling to " + size * 2);
                Patterns.fill(next, size * 2, 12);
            }
            // outgrowing the large slot: the grower moves again, with headroom again
            long moved = heap.realloc(grown, size, 1, size * 2);
            assertNotEquals(grown, moved);
            assertTrue(heap.usableSize(moved) >= 4 * size * 2, "headroom after the second move: " + heap.usableSize(moved));
            Patterns.check(moved, size, 12, "after the second move");
            assertEquals(moved, heap.realloc(moved, size * 2, 1, size * 4), "the next doubling stays in place");
            heap.dealloc(moved, size * 4, 1);
        }
    }

    // ------------------------------------------------------------ builder

    @ParameterizedTest(name = "slabsPerClass {0}")
    @ValueSource(ints = {0, 3, 128, -1, 65, Integer.MIN_VALUE})
    void builderRejectsBadSlabsPerClass(int slabsPerClass) {
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                () -> Smalloc.builder().slabsPerClass(slabsPerClass));
        assertTrue(thrown.getMessage().contains(String.valueOf(slabsPerClass)), thrown::getMessage);
    }

    @ParameterizedTest(name = "slabBytes {0}")
    @ValueSource(longs = {4, 3 << 20, 1L << 33, 0, -8, Long.MIN_VALUE})
    void builderRejectsBadSlabBytes(long slabBytes) {
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                () -> Smalloc.builder().slabBytes(slabBytes));
        assertTrue(thrown.getMessage().contains(String.valueOf(slabBytes)), thrown::getMessage);
    }

    @ParameterizedTest(name = "largestSlot {0}")
    @ValueSource(longs = {4, 1L << 32, 1000, 0, -1})
    void builderRejectsBadLargestSlot(long largestSlot) {
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                () -> Smalloc.builder().largestSlot(largestSlot));
        assertTrue(thrown.getMessage().contains(String.valueOf(largestSlot)), thrown::getMessage);
    }

    @ParameterizedTest(name = "releaseThreshold {0}")
    @ValueSource(longs = {100, 0, -1, 3 << 20, 2048})
    void builderRejectsBadReleaseThreshold(long releaseThreshold) {
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                () -> Smalloc.builder().releaseThreshold(releaseThreshold));
        assertTrue(thrown.getMessage().contains(String.valueOf(releaseThreshold)), thrown::getMessage);
    }

    @Test
    void builderRejectsBlankNamesAndASlabSmallerThanTheLargestSlot() {
        assertThrows(IllegalArgumentException.class, () -> Smalloc.builder().name(null));
        assertThrows(IllegalArgumentException.class, () -> Smalloc.builder().name(""));
        assertThrows(IllegalArgumentException.class, () -> Smalloc.builder().name(" \t"));
        // each value is fine alone; only build() sees them together
        assertThrows(IllegalArgumentException.class, () -> Smalloc.builder().slabBytes(1 << 16).largestSlot(1 << 20).build());
        assertThrows(IllegalArgumentException.class, () -> Smalloc.builder().largestSlot(1 << 20).slabBytes(1 << 16).build());
        assertThrows(IllegalArgumentException.class, () -> Smalloc.builder().slabBytes(1 << 20).build(),
                "the default largest slot (2 GiB) does not fit a 1 MiB slab");
    }

    @Test
    void builderAcceptsItsLimits() {
        try (Smalloc one = Smalloc.builder().slabsPerClass(1).slabBytes(1 << 12).largestSlot(8)
                .releaseThreshold(Native.PAGE_SIZE).build()) {
            assertAll(() -> assertEquals(1, one.slabsPerClass()), () -> assertEquals(1 << 12, one.slabBytes()),
                    () -> assertEquals(8, one.largestSlot()), () -> assertEquals(Native.PAGE_SIZE, one.releaseThreshold()),
                    () -> assertFalse(one.checked()));
            assertNotEquals(0, one.alloc(8, 8));
        }
        try (Smalloc wide = Smalloc.builder().slabsPerClass(64).slabBytes(1L << 32).largestSlot(1L << 31)
                .releaseThreshold(Long.MAX_VALUE).checked(true).name("wide").build()) {
            assertAll(() -> assertEquals(64, wide.slabsPerClass()), () -> assertEquals(1L << 32, wide.slabBytes()),
                    () -> assertEquals(1L << 31, wide.largestSlot()), () -> assertEquals(Long.MAX_VALUE, wide.releaseThreshold()),
                    () -> assertTrue(wide.checked()), () -> assertEquals("wide", wide.name()));
            long address = wide.alloc(1L << 31, 1); // a fresh slot: costs address space, not memory
            assertEquals(1L << 31, wide.usableSize(address));
            wide.dealloc(address, 1L << 31, 1);
        }
    }

    // ------------------------------------------------------------ heap queries

    @Test
    void containsIsARangeCheckOfTheHeap() {
        Smalloc heap = tinyHeap();
        long address = heap.alloc(64, 1);
        long global = Smalloc.global().alloc(64, 1);
        MemorySegment malloced = Arena.ofAuto().allocate(8);
        try {
            assertTrue(heap.contains(address));
            assertTrue(heap.contains(address + 1), "a range check, not a block check");
            assertFalse(heap.contains(0));
            assertFalse(heap.contains(-1));
            assertFalse(heap.contains(Long.MIN_VALUE));
            assertFalse(heap.contains(malloced.address()));
            assertFalse(heap.contains(global));
            assertFalse(Smalloc.global().contains(address));
            assertTrue(Smalloc.global().contains(global));
            assertFalse(heap.contains(heap.slabHeap().layout().base() + heap.reservedBytes()), "one past the end");
        } finally {
            Smalloc.global().dealloc(global, 64, 1);
            heap.close();
        }
        assertFalse(heap.contains(address), "a closed heap contains nothing");
        assertThrows(IllegalStateException.class, () -> heap.usableSize(address));
        assertThrows(IllegalStateException.class, heap::stats);
    }

    @Test
    void usableSizeRejectsForeignAndInteriorAddressesNamingThem() {
        try (Smalloc heap = tinyHeap()) {
            long address = heap.alloc(64, 1);
            long malloced = Arena.ofAuto().allocate(8).address();
            long global = Smalloc.global().alloc(64, 1);
            try {
                for (long bad : new long[] {address + 1, address + 8, address + 32, malloced, global, 0}) {
                    IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                            () -> heap.usableSize(bad), () -> "usableSize(" + hex(bad) + ")");
                    assertNamesAddress(thrown, bad);
                }
                assertEquals(64, heap.usableSize(address));
            } finally {
                Smalloc.global().dealloc(global, 64, 1);
            }
        }
    }

    @Test
    void statsCountSlotsInUseTouchedAndResident() {
        try (Smalloc heap = Smalloc.builder().name("stats").slabBytes(1 << 22).largestSlot(1 << 21).slabsPerClass(2).build()) {
            SmallocStats empty = heap.stats();
            assertEquals("stats", empty.heapName());
            assertEquals(AddressLayout.MIN_CLASS, empty.classes().get(0).sizeClass());
            assertEquals(21, empty.classes().get(empty.classes().size() - 1).sizeClass());
            for (SmallocStats.SizeClass sizeClass : empty.classes()) {
                assertEquals(1L << sizeClass.sizeClass(), sizeClass.slotSize());
                assertEquals((1L << 22) / sizeClass.slotSize(), sizeClass.slotsPerSlab());
                assertEquals(2, sizeClass.slabs().size());
                assertEquals(0, sizeClass.slotsInUse());
                assertEquals(0, sizeClass.slotsTouched());
            }
            assertEquals(0, empty.bytesResident());

            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                long address = heap.alloc(64, 1);
                Patterns.fill(address, 64, i);
                blocks.add(address);
            }
            SmallocStats.SizeClass class6 = heap.stats().sizeClass(6);
            assertEquals(10, class6.slotsInUse());
            assertTrue(class6.slotsTouched() >= 10, "touched " + class6.slotsTouched());
            assertEquals(640, class6.bytesInUse());
            assertTrue(class6.bytesResident() > 0, "written slots are resident");
            assertEquals(class6.slotsInUse(), class6.slabs().stream().mapToLong(SmallocStats.Slab::slotsInUse).sum());
            assertEquals(class6.bytesResident(), class6.slabs().stream().mapToLong(SmallocStats.Slab::bytesResident).sum());
            assertEquals(10, heap.stats().slotsInUse());

            for (int i = 0; i < 4; i++) {
                heap.dealloc(blocks.remove(0), 64, 1);
            }
            class6 = heap.stats().sizeClass(6);
            assertEquals(6, class6.slotsInUse());
            assertTrue(class6.slotsTouched() >= 10, "touched is 'ever handed out': " + class6.slotsTouched());
            for (long address : blocks) {
                heap.dealloc(address, 64, 1);
            }
            assertEquals(0, heap.stats().sizeClass(6).slotsInUse());

            // 1 MiB slots give their pages back when freed; 64 KiB slots keep theirs
            List<MemorySegment> large = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                MemorySegment segment = heap.allocate(1 << 20);
                segment.fill((byte) 1);
                large.add(segment);
            }
            MemorySegment kept = heap.allocate(1 << 16);
            kept.fill((byte) 1);
            SmallocStats.SizeClass class20 = heap.stats().sizeClass(20);
            assertEquals(3, class20.slotsInUse());
            assertTrue(class20.bytesResident() >= 3 << 20, "written 1 MiB slots resident: " + class20.bytesResident());
            large.forEach(heap::free);
            heap.free(kept);
            class20 = heap.stats().sizeClass(20);
            assertEquals(0, class20.slotsInUse());
            assertTrue(class20.slotsTouched() >= 3);
            assertTrue(class20.bytesResident() <= Native.PAGE_SIZE, "freed 1 MiB slots still resident: " + class20.bytesResident());
            assertTrue(heap.stats().sizeClass(16).bytesResident() >= 1 << 16, "a freed 64 KiB slot keeps its pages");
        }
    }

    @Test
    void statsBoundEachSlabsResidentBytesByThePagesItsTouchedSlotsSpan() {
        try (Smalloc heap = Smalloc.builder().name("pages").slabBytes(1 << 22).largestSlot(1 << 21).slabsPerClass(2).build()) {
            assertEquals(Native.PAGE_SIZE, heap.stats().pageSize());
            long small = heap.alloc(16, 1);
            Patterns.fill(small, 16, 1);
            List<MemorySegment> large = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                MemorySegment segment = heap.allocate(1 << 16);
                segment.fill((byte) 1);
                large.add(segment);
            }
            SmallocStats stats = heap.stats();
            long page = stats.pageSize();

            SmallocStats.SizeClass class4 = stats.sizeClass(4);
            SmallocStats.Slab smallSlab = class4.slabs().get(slabOf(heap, small));
            assertEquals(1, smallSlab.slotsTouched());
            assertEquals(page, stats.bytesSpanned(class4, smallSlab), "one 16-byte slot spans one whole page");
            assertEquals(page, smallSlab.bytesResident(), "the written page is resident");
            assertEquals(16, class4.bytesTouched());

            SmallocStats.SizeClass class16 = stats.sizeClass(16);
            SmallocStats.Slab largeSlab = class16.slabs().get(slabOf(heap, large.get(0).address()));
            assertEquals(3, largeSlab.slotsTouched());
            assertEquals(3L << 16, stats.bytesSpanned(class16, largeSlab));
            assertEquals(3L << 16, largeSlab.bytesResident(), "three written 64 KiB slots");
            assertEquals(3L << 16, class16.bytesTouched());

            for (SmallocStats.SizeClass sizeClass : stats.classes()) {
                for (SmallocStats.Slab slab : sizeClass.slabs()) {
                    long spanned = stats.bytesSpanned(sizeClass, slab);
                    assertTrue(slab.bytesResident() <= spanned, () -> "class " + sizeClass.sizeClass() + " slab "
                            + slab.slab() + ": resident " + slab.bytesResident() + " above the " + spanned + " spanned");
                    if (slab.slotsTouched() == 0) {
                        assertEquals(0, spanned, "an untouched slab spans nothing");
                    }
                }
            }
            large.forEach(heap::free);
            heap.dealloc(small, 16, 1);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -4096, 3000, 4097})
    void statsRejectAPageSizeThatIsNotAPositivePowerOfTwo(long pageSize) {
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                () -> new SmallocStats("heap", List.of(), pageSize));
        assertTrue(thrown.getMessage().contains("page size " + pageSize), thrown::getMessage);
    }

    // ------------------------------------------------------------ checked mode

    private static Smalloc checkedHeap() {
        return Smalloc.builder().name("checked").checked(true).build();
    }

    /** Every way to give {@code address} back is rejected, naming it. */
    private static void assertNotALiveBlock(Smalloc heap, long address, long byteSize) {
        MemorySegment segment = MemorySegment.ofAddress(address).reinterpret(byteSize);
        List<Executable> calls = List.of(
                () -> heap.dealloc(address, byteSize, 1),
                () -> heap.realloc(address, byteSize, 1, byteSize * 4),
                () -> heap.realloc(address, byteSize, 1, 1),
                () -> heap.free(segment),
                () -> heap.reallocate(segment, byteSize * 4),
                () -> heap.usableSize(address));
        for (int i = 0; i < calls.size(); i++) {
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, calls.get(i)::execute,
                    "call " + i + " (dealloc, realloc up, realloc down, free, reallocate, usableSize) with " + hex(address));
            assertNamesAddress(thrown, address);
        }
    }

    /** The heap still hands out distinct, writable blocks and takes them back. */
    private static void assertHeapWorks(Smalloc heap) {
        Set<Long> addresses = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            long address = heap.alloc(64, 1);
            assertTrue(addresses.add(address), "handed out twice: " + hex(address));
            Patterns.fill(address, 64, i);
        }
        for (long address : addresses) {
            heap.dealloc(address, 64, 1);
        }
    }

    @Test
    void checkedHeapRejectsADoubleFree() {
        try (Smalloc heap = checkedHeap()) {
            long neighbour = heap.alloc(64, 1);
            Patterns.fill(neighbour, 64, 1);
            long address = heap.alloc(64, 1);
            heap.dealloc(address, 64, 1);
            assertNotALiveBlock(heap, address, 64);
            assertEquals(address, heap.alloc(64, 1), "the free list is intact: the freed slot comes back once");
            assertNotEquals(address, heap.alloc(64, 1), "and only once");

            MemorySegment segment = heap.allocate(200);
            heap.free(segment);
            assertThrows(IllegalArgumentException.class, () -> heap.free(segment));
            Patterns.check(neighbour, 64, 1, "a live block beside the double frees");
            assertHeapWorks(heap);
        }
    }

    @Test
    void checkedHeapRejectsSlotsNeverHandedOut() {
        try (Smalloc heap = checkedHeap()) {
            long address = heap.alloc(64, 1);
            Patterns.fill(address, 64, 2);
            long unused = heap.slabHeap().layout().base()
                    + heap.slabHeap().layout().offsetOf(heap.slabHeap().currentSlab(), 9, 0); // a 512-byte slot
            for (long never : new long[] {address + 64, address + 64 * 1000, unused}) {
                assertNotALiveBlock(heap, never, 8);
            }
            Patterns.check(address, 64, 2, "a live block");
            assertHeapWorks(heap);
            heap.dealloc(address, 64, 1);
        }
    }

    @Test
    void checkedHeapRejectsAStalePointerAfterAMovingRealloc() {
        try (Smalloc heap = checkedHeap()) {
            long address = heap.alloc(64, 1);
            Patterns.fill(address, 64, 3);
            long moved = heap.realloc(address, 64, 1, 8192);
            assertNotEquals(address, moved);
            assertNotALiveBlock(heap, address, 64);
            Patterns.check(moved, 64, 3, "the moved block");

            MemorySegment segment = heap.allocate(100);
            MemorySegment grown = heap.reallocate(segment, 5000);
            assertNotEquals(segment.address(), grown.address());
            assertThrows(IllegalArgumentException.class, () -> heap.free(segment));
            heap.free(grown);
            heap.dealloc(moved, 8192, 1);
            assertHeapWorks(heap);
        }
    }

    @Test
    void checkedHeapRejectsASizeLargerThanTheSlot() {
        try (Smalloc heap = checkedHeap()) {
            long address = heap.alloc(64, 1);
            Patterns.fill(address, 64, 4);
            for (long tooLarge : new long[] {65, 128, 1 << 20, Long.MAX_VALUE}) {
                IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                        () -> heap.dealloc(address, tooLarge, 1));
                assertNamesAddress(thrown, address);
                assertThrows(IllegalArgumentException.class, () -> heap.realloc(address, tooLarge, 1, 8));
                if (tooLarge <= 1 << 20) {
                    assertThrows(IllegalArgumentException.class,
                            () -> heap.free(MemorySegment.ofAddress(address).reinterpret(tooLarge)));
                }
            }
            Patterns.check(address, 64, 4, "after rejected frees");
            assertEquals(1, heap.stats().slotsInUse(), "the rejected frees freed nothing");
            heap.dealloc(address, 64, 1);
            assertNotALiveBlock(heap, address, 64);
            assertHeapWorks(heap);
        }
    }

    // ------------------------------------------------------------ the global heap and lifecycles

    @Test
    void globalHeapIsOneProcessWideHeapThatCloseDoesNotEnd() {
        Smalloc global = Smalloc.global();
        assertSame(global, Smalloc.global());
        assertEquals("smalloc", global.name());
        assertEquals(1L << 31, global.largestSlot());
        assertEquals(64, global.slabsPerClass());
        assertEquals(1L << 32, global.slabBytes());
        assertEquals(8L << 40, global.reservedBytes(), "8 TiB of address space");
        assertEquals(0, global.alloc((1L << 31) + 1, 1), "above the largest slot");
        assertEquals(0, global.alloc(8, 1L << 32), "an alignment above the largest slot is exhaustion, not bad input");
        OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> global.allocate(8, 1L << 32));
        assertTrue(error.getMessage().contains("'smalloc'"), error::getMessage);

        MemorySegment segment = global.allocate(64);
        global.close();
        segment.set(ValueLayout.JAVA_LONG, 0, 1); // still alive: the global heap has no end
        assertTrue(global.contains(segment.address()));
        global.free(segment);
    }

    @Test
    void defaultHeapsFitBesideTheGlobalHeap() {
        try (Smalloc first = Smalloc.builder().build(); Smalloc second = Smalloc.builder().build()) {
            assertNotEquals(first.name(), second.name());
            assertTrue(first.name().startsWith("smalloc-"), first.name());
            long a = first.alloc(64, 1);
            long b = second.alloc(64, 1);
            long g = Smalloc.global().alloc(64, 1);
            assertEquals(8L << 40, first.reservedBytes());
            assertTrue(first.contains(a) && !second.contains(a) && !Smalloc.global().contains(a));
            assertTrue(second.contains(b) && !first.contains(b) && !Smalloc.global().contains(b));
            assertThrows(IllegalArgumentException.class, () -> first.dealloc(b, 64, 1), "a block of another heap");
            first.dealloc(a, 64, 1);
            second.dealloc(b, 64, 1);
            Smalloc.global().dealloc(g, 64, 1);
        }
    }

    @Test
    void openArenaKeepsItsBlocksUntilItClosesEvenAfterTheHeapCloses() {
        Smalloc heap = tinyHeap();
        Arena arena = heap.newArena();
        MemorySegment fromArena = arena.allocate(64);
        MemorySegment fromHeap = heap.allocate(64);
        fromArena.set(ValueLayout.JAVA_LONG, 0, 42);
        heap.close();
        assertThrows(IllegalStateException.class, () -> fromHeap.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(42, fromArena.get(ValueLayout.JAVA_LONG, 0), "the arena's block stays mapped while it is open");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> arena.allocate(8));
        assertTrue(refused.getMessage().contains("is closed"), refused::getMessage);
        arena.close();
        assertThrows(IllegalStateException.class, () -> fromArena.get(ValueLayout.JAVA_LONG, 0));
    }

    @Test
    void everyPowerOfTwoClassServesTheRangeBelowIt() {
        // the boundaries of the table, on the global heap's own constants
        assertAll(LongStream.rangeClosed(AddressLayout.MIN_CLASS, 31).mapToObj(sc -> (Executable) () -> {
            long slot = 1L << sc;
            assertEquals(sc, AddressLayout.sizeClassFor(slot, 1));
            assertEquals(sc, AddressLayout.sizeClassFor(slot / 2 + 1, 1));
            assertEquals(sc + 1, AddressLayout.sizeClassFor(slot + 1, 1));
            assertEquals(sc, AddressLayout.sizeClassFor(1, slot));
        }));
    }

    @Test
    void theGlobalHeapAndTenDefaultBuilderHeapsFitInOneProcess() {
        long global = Smalloc.global().alloc(8, 8);
        List<Smalloc> heaps = new ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                Smalloc heap = Smalloc.builder().build(); // 8 TiB of address space each
                heaps.add(heap);
                long block = heap.alloc(64, 8);
                assertTrue(heap.contains(block), "heap " + i + " works");
                for (Smalloc other : heaps) {
                    assertTrue(other == heap || !other.contains(block), "heaps do not overlap");
                }
            }
        } finally {
            heaps.forEach(Smalloc::close);
            Smalloc.global().dealloc(global, 8, 8);
        }
        assertEquals(10, heaps.size());
    }
}
