package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * Test patterns for native memory. The byte at offset {@code i} of a block filled with seed
 * {@code s} depends only on {@code (s, i)}, so a prefix of a filled block is a filled block: after a
 * realloc, checking {@code min(old, new)} bytes against the same seed checks that content was kept.
 */
final class Patterns {

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Patterns() {
    }

    /** A segment over a raw block (global scope: the caller knows the block is live). */
    static MemorySegment at(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }

    /** The 8 bytes at offset {@code 8 * index} (splitmix64 of seed and index: never a run of zeros). */
    static long word(long seed, long index) {
        long z = seed + (index + 1) * 0x9E37_79B9_7F4A_7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    private static byte byteAt(long seed, long offset) {
        return (byte) (word(seed, offset >>> 3) >>> ((offset & 7) * 8));
    }

    static void fill(MemorySegment block, long seed) {
        long size = block.byteSize();
        long words = size >>> 3;
        for (long k = 0; k < words; k++) {
            block.set(WORD, k << 3, word(seed, k));
        }
        for (long i = words << 3; i < size; i++) {
            block.set(ValueLayout.JAVA_BYTE, i, byteAt(seed, i));
        }
    }

    static void fill(long address, long byteSize, long seed) {
        fill(at(address, byteSize), seed);
    }

    /** Fails naming {@code what} and the first offset whose byte differs from the pattern. */
    static void check(MemorySegment block, long seed, String what) {
        long size = block.byteSize();
        long words = size >>> 3;
        for (long k = 0; k < words; k++) {
            if (block.get(WORD, k << 3) != word(seed, k)) {
                firstMismatch(block, seed, k << 3, what);
            }
        }
        for (long i = words << 3; i < size; i++) {
            if (block.get(ValueLayout.JAVA_BYTE, i) != byteAt(seed, i)) {
                firstMismatch(block, seed, i, what);
            }
        }
    }

    static void check(long address, long byteSize, long seed, String what) {
        check(at(address, byteSize), seed, what);
    }

    private static void firstMismatch(MemorySegment block, long seed, long from, String what) {
        for (long i = from; i < block.byteSize(); i++) {
            byte expected = byteAt(seed, i);
            byte actual = block.get(ValueLayout.JAVA_BYTE, i);
            if (expected != actual) {
                fail(what + ": byte " + i + " of " + block.byteSize() + " at " + hex(block.address() + i)
                        + " is " + actual + ", the pattern (seed " + seed + ") has " + expected);
            }
        }
    }

    static void fillBytes(long address, long byteSize, byte value) {
        at(address, byteSize).fill(value);
    }

    /** Fails naming {@code what} and the first non-zero offset. */
    static void checkZero(MemorySegment block, String what) {
        long size = block.byteSize();
        long words = size >>> 3;
        for (long k = 0; k < words; k++) {
            if (block.get(WORD, k << 3) != 0) {
                firstNonZero(block, k << 3, what);
            }
        }
        for (long i = words << 3; i < size; i++) {
            if (block.get(ValueLayout.JAVA_BYTE, i) != 0) {
                firstNonZero(block, i, what);
            }
        }
    }

    static void checkZero(long address, long byteSize, String what) {
        checkZero(at(address, byteSize), what);
    }

    private static void firstNonZero(MemorySegment block, long from, String what) {
        for (long i = from; i < block.byteSize(); i++) {
            byte actual = block.get(ValueLayout.JAVA_BYTE, i);
            if (actual != 0) {
                fail(what + ": byte " + i + " of " + block.byteSize() + " at " + hex(block.address() + i)
                        + " is " + actual + ", not zero");
            }
        }
    }

    static void assertAligned(long address, long byteAlignment, String what) {
        assertEquals(0, address & (byteAlignment - 1),
                () -> what + ": address " + hex(address) + " is not aligned to " + byteAlignment);
    }

    /**
     * Asserts the message names {@code address} in hex as C prints pointers ({@code 0x7f3a…}): any
     * case, leading zeros allowed, and not merely as the prefix of a longer number.
     */
    static void assertNamesAddress(Throwable thrown, long address) {
        String message = thrown.getMessage();
        assertNotNull(message, () -> thrown + " has no message; it should name " + hex(address));
        String lower = message.toLowerCase(Locale.ROOT);
        String digits = Long.toHexString(address);
        boolean named = false;
        for (int at = lower.indexOf("0x"); at >= 0 && !named; at = lower.indexOf("0x", at + 2)) {
            int end = at + 2;
            while (end < lower.length() && Character.digit(lower.charAt(end), 16) >= 0) {
                end++;
            }
            String found = lower.substring(at + 2, end).replaceFirst("^0+(?=.)", "");
            named = found.equals(digits);
        }
        assertTrue(named, () -> "message \"" + message + "\" does not name address " + hex(address));
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }
}
