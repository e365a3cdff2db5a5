package org.smalloc4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The content tests write into a block and check before freeing it: a sequence of 64-bit words
 * derived from a key (say thread and block id), so two blocks with different keys never hold the
 * same bytes and a block that was handed out twice, or overwritten by the allocator, shows.
 * Byte {@code j} of a block is byte {@code j % 8} (little-endian) of word {@code j / 8}, whatever
 * range was written, so a block can be filled in parts (a grown tail after realloc).
 */
final class BlockPattern {

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BlockPattern() {
    }

    /** Word {@code index} of the block with {@code key}; distinct keys give distinct words. */
    static long word(long key, long index) {
        // multiplying by an odd constant is a bijection: distinct keys, distinct words
        return key * 0x9E37_79B9_7F4A_7C15L + (index + 1) * 0xC2B2_AE3D_27D4_EB4FL;
    }

    static byte byteAt(long key, long position) {
        return (byte) (word(key, position >>> 3) >>> ((position & 7) << 3));
    }

    /** Writes the pattern of {@code key} over {@code [from, to)} of {@code block}. */
    static void fill(MemorySegment block, long key, long from, long to) {
        long j = from;
        for (; j < to && (j & 7) != 0; j++) {
            block.set(ValueLayout.JAVA_BYTE, j, byteAt(key, j));
        }
        for (; j + 8 <= to; j += 8) {
            block.set(WORD, j, word(key, j >>> 3));
        }
        for (; j < to; j++) {
            block.set(ValueLayout.JAVA_BYTE, j, byteAt(key, j));
        }
    }

    static void fill(MemorySegment block, long key) {
        fill(block, key, 0, block.byteSize());
    }

    /** The first position in {@code [from, to)} that does not hold the pattern of {@code key}, or -1. */
    static long firstMismatch(MemorySegment block, long key, long from, long to) {
        long j = from;
        for (; j < to && (j & 7) != 0; j++) {
            if (block.get(ValueLayout.JAVA_BYTE, j) != byteAt(key, j)) {
                return j;
            }
        }
        for (; j + 8 <= to; j += 8) {
            if (block.get(WORD, j) != word(key, j >>> 3)) {
                for (long k = j; ; k++) {
                    if (block.get(ValueLayout.JAVA_BYTE, k) != byteAt(key, k)) {
                        return k;
                    }
                }
            }
        }
        for (; j < to; j++) {
            if (block.get(ValueLayout.JAVA_BYTE, j) != byteAt(key, j)) {
                return j;
            }
        }
        return -1;
    }

    /** The first non-zero position of {@code block}, or -1. */
    static long firstNonZero(MemorySegment block) {
        long size = block.byteSize();
        long j = 0;
        for (; j + 8 <= size; j += 8) {
            if (block.get(WORD, j) != 0) {
                break;
            }
        }
        for (; j < size; j++) {
            if (block.get(ValueLayout.JAVA_BYTE, j) != 0) {
                return j;
            }
        }
        return -1;
    }

    /**
     * Checks the whole block.
     *
     * @throws AssertionError naming the block, the first bad byte and {@code context} (a seed, say)
     */
    static void check(MemorySegment block, long key, String context) {
        long bad = firstMismatch(block, key, 0, block.byteSize());
        if (bad >= 0) {
            throw new AssertionError("block at 0x" + Long.toHexString(block.address()) + " (" + block.byteSize()
                    + " bytes, key 0x" + Long.toHexString(key) + ") lost its content at byte " + bad + ": found "
                    + block.get(ValueLayout.JAVA_BYTE, bad) + ", wrote " + byteAt(key, bad) + "; " + context);
        }
    }

    /** A global-scope segment over a raw block (only while its heap is open). */
    static MemorySegment raw(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }
}
