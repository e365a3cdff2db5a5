package org.smalloc4j;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What is particular to libc behind the contract: the split at 16-byte alignment, size 0, huge
 * requests that must fail before reaching C. The shared contract cases run elsewhere.
 */
class SystemAllocatorTest {

    private final SystemAllocator system = new SystemAllocator();

    private static MemorySegment at(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }

    private static void fillPattern(long address, long byteSize) {
        MemorySegment block = at(address, byteSize);
        for (long i = 0; i < byteSize; i++) {
            block.set(JAVA_BYTE, i, (byte) (i * 31 + 7));
        }
    }

    private static void assertPattern(long address, long byteSize) {
        MemorySegment block = at(address, byteSize);
        for (long i = 0; i < byteSize; i++) {
            assertEquals((byte) (i * 31 + 7), block.get(JAVA_BYTE, i), "byte " + i);
        }
    }

    private static void assertZero(long address, long byteSize) {
        assertEquals(-1, at(address, byteSize).mismatch(MemorySegment.ofArray(new byte[(int) byteSize])),
                "the block is not all zero");
    }

    @Test
    void allocWriteReadFree() {
        for (long byteSize : new long[] {1, 8, 100, 4096, 1 << 20}) {
            long address = system.alloc(byteSize, 8);
            assertNotEquals(0, address, "size " + byteSize);
            assertEquals(0, address % SystemAllocator.MALLOC_ALIGNMENT, "malloc aligns to 16");
            fillPattern(address, byteSize);
            assertPattern(address, byteSize);
            system.dealloc(address, byteSize, 8);
        }
    }

    @Test
    void zeroSizeBlocksAreDistinctAndFreeable() {
        Set<Long> addresses = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            long address = system.alloc(0, 1);
            assertNotEquals(0, address);
            assertTrue(addresses.add(address), "zero-size block " + Long.toHexString(address) + " handed out twice");
        }
        long aligned = system.alloc(0, 4096);
        assertNotEquals(0, aligned);
        assertEquals(0, aligned % 4096);
        system.dealloc(aligned, 0, 4096);
        addresses.forEach(address -> system.dealloc(address, 0, 1));
    }

    @Test
    void largeAlignmentIsMet() {
        for (long byteAlignment : new long[] {32, 64, 4096, 1 << 16}) {
            long address = system.alloc(100, byteAlignment);
            assertNotEquals(0, address);
            assertEquals(0, address % byteAlignment, "alignment " + byteAlignment);
            fillPattern(address, 100);
            system.dealloc(address, 100, byteAlignment);
        }
    }

    @Test
    void allocZeroedIsZeroAtEveryAlignment() {
        for (long byteAlignment : new long[] {1, 16, 64, 4096}) {
            // dirty some memory first so that a reused block would show
            long dirty = system.alloc(5000, byteAlignment);
            fillPattern(dirty, 5000);
            system.dealloc(dirty, 5000, byteAlignment);

            long address = system.allocZeroed(5000, byteAlignment);
            assertNotEquals(0, address);
            assertEquals(0, address % byteAlignment);
            assertZero(address, 5000);
            system.dealloc(address, 5000, byteAlignment);
        }
    }

    @Test
    void usableSizeCoversTheSizeAskedForAndIsMallocs() {
        for (long byteAlignment : new long[] {8, 64, 4096}) {
            for (long byteSize : new long[] {0, 1, 24, 100, 5000, 1 << 20}) {
                long address = system.alloc(byteSize, byteAlignment);
                long usable = system.usableSize(address);
                assertTrue(usable >= Math.max(byteSize, 1), "usable " + usable + " of a " + byteSize + "-byte block");
                assertTrue(usable < Math.max(byteSize, 1) + 4096 + byteAlignment,
                        "usable " + usable + " of a " + byteSize + "-byte block: more than glibc rounds");
                fillPattern(address, usable); // every usable byte is the caller's
                assertPattern(address, usable);
                system.dealloc(address, byteSize, byteAlignment);
            }
        }
        long smallest = system.alloc(1, 8);
        long usable = system.usableSize(smallest);
        system.dealloc(smallest, 1, 8);
        assertEquals(24, usable, "glibc's smallest chunk (32 bytes on 64-bit) holds 24 bytes");
        assertEquals(0, system.usableSize(0));
    }

    @Test
    void reallocKeepsContent() {
        long address = system.alloc(64, 8);
        fillPattern(address, 64);
        address = system.realloc(address, 64, 8, 1 << 20); // past the mmap threshold: moves
        assertNotEquals(0, address);
        assertPattern(address, 64);
        fillPattern(address, 1 << 20);
        address = system.realloc(address, 1 << 20, 8, 100);
        assertPattern(address, 100);
        system.dealloc(address, 100, 8);
    }

    @Test
    void reallocKeepsLargeAlignmentAndContent() {
        long address = system.alloc(100, 4096);
        fillPattern(address, 100);
        long grown = system.realloc(address, 100, 4096, 10_000);
        assertNotEquals(0, grown);
        assertEquals(0, grown % 4096);
        assertPattern(grown, 100);
        long shrunk = system.realloc(grown, 10_000, 4096, 50);
        assertEquals(0, shrunk % 4096);
        assertPattern(shrunk, 50);
        system.dealloc(shrunk, 50, 4096);
    }

    @Test
    void reallocToZeroGivesABlockAndOfNullAllocates() {
        for (long byteAlignment : new long[] {8, 4096}) {
            long address = system.realloc(0, 0, byteAlignment, 32);
            assertNotEquals(0, address);
            long empty = system.realloc(address, 32, byteAlignment, 0);
            assertNotEquals(0, empty, "realloc to 0 must not free and answer NULL, as glibc's realloc(p, 0) does");
            system.dealloc(empty, 0, byteAlignment);
        }
    }

    @Test
    void hugeRequestsReturnZero() {
        assertEquals(0, system.alloc(Long.MAX_VALUE, 8));
        assertEquals(0, system.alloc(Long.MAX_VALUE, 1L << 62));
        assertEquals(0, system.alloc(0, 1L << 62));
        assertEquals(0, system.alloc(1L << 56, 1));
        assertEquals(0, system.allocZeroed(Long.MAX_VALUE, 1));
        assertEquals(0, system.allocZeroed(Long.MAX_VALUE - 1, 4096));
        assertEquals(0, system.realloc(0, 0, 1L << 62, 1));
    }

    @Test
    void failedReallocLeavesTheBlockIntact() {
        for (long byteAlignment : new long[] {8, 4096}) {
            long address = system.alloc(256, byteAlignment);
            fillPattern(address, 256);
            assertEquals(0, system.realloc(address, 256, byteAlignment, Long.MAX_VALUE));
            assertEquals(0, system.realloc(address, 256, byteAlignment, (1L << 56) - 1));
            assertPattern(address, 256);
            system.dealloc(address, 256, byteAlignment);
        }
    }

    @Test
    void ffmLayerThrowsOutOfMemoryNamingSystemAndSize() {
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> system.allocate(Long.MAX_VALUE, 8));
        assertTrue(e.getMessage().contains("'system'") && e.getMessage().contains(Long.toString(Long.MAX_VALUE)),
                e.getMessage());
    }

    @Test
    void ffmLayerRoundTrip() {
        MemorySegment segment = system.allocate(100, 64);
        assertEquals(100, segment.byteSize());
        assertEquals(0, segment.address() % 64);
        segment.set(JAVA_LONG, 0, 0x1122_3344_5566_7788L);
        MemorySegment grown = system.reallocate(segment, 10_000, 64);
        assertEquals(0x1122_3344_5566_7788L, grown.get(JAVA_LONG, 0));
        assertEquals(-1, grown.asSlice(100).mismatch(MemorySegment.ofArray(new byte[10_000 - 100])));
        system.free(grown);
        system.free(MemorySegment.NULL);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> system.alloc(-1, 8));
        assertThrows(IllegalArgumentException.class, () -> system.alloc(8, 3));
        assertThrows(IllegalArgumentException.class, () -> system.alloc(8, 0));
        assertThrows(IllegalArgumentException.class, () -> system.allocZeroed(8, -8));
        assertThrows(IllegalArgumentException.class, () -> system.dealloc(0, -1, 8));
        assertThrows(IllegalArgumentException.class, () -> system.dealloc(0, 8, 6));
        assertThrows(IllegalArgumentException.class, () -> system.realloc(0, -1, 8, 8));
        assertThrows(IllegalArgumentException.class, () -> system.realloc(0, 0, 8, -1));
        assertThrows(IllegalArgumentException.class, () -> system.realloc(0, 0, 12, 8));
    }

    @Test
    void nullIsCsNull() {
        assertDoesNotThrow(() -> system.dealloc(0, 0, 1));
        assertDoesNotThrow(() -> system.dealloc(0, 100, 4096));
        assertDoesNotThrow(() -> system.free(MemorySegment.NULL));
    }

    @Test
    void nameAndCloseDoNothingHarmful() {
        assertEquals("system", system.name());
        long address = system.alloc(16, 8);
        system.close();
        system.close();
        system.dealloc(address, 16, 8); // still usable: the C heap has no end
    }
}
