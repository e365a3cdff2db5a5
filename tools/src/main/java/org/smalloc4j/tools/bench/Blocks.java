package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

import org.smalloc4j.NativeAllocator;

/**
 * The stamp every workload writes into its blocks, and the check before a block is freed.
 *
 * <p>A block's first word holds its tag, and its last word (when the block has room for two words)
 * the tag's complement. A tag carries the block's size in its low {@link #SIZE_BITS} bits and a
 * serial number above, so a block that travels between threads as a bare address can be checked
 * from its own content: {@link #checkStamped} reads the size out of the first word and finds the
 * complement at the end. A block handed out twice, or written past by a neighbour, fails the check.
 *
 * <pre>
 *  word 0                                              last word (size &gt;= 16)
 *  +----------------------+-----------------+   ...   +---------------------+
 *  | serial (40 bits)     | size (24 bits)  |         | ~tag                |
 *  +----------------------+-----------------+   ...   +---------------------+
 * </pre>
 */
final class Blocks {

    // chosen
    /** Bits of a tag that hold the block's size: blocks up to 16 MiB. */
    static final int SIZE_BITS = 24;
    /** Alignment of every block: a {@code long}'s, what Java code usually asks for. */
    static final long BYTE_ALIGNMENT = 8;
    /** The smallest block: room for the tag word. */
    static final int MIN_SIZE = 8;
    // derived
    static final long SIZE_MASK = (1L << SIZE_BITS) - 1;  // 0xff_ffff

    private Blocks() {
    }

    /** A tag for a block of {@code byteSize} bytes with serial number {@code serial}. */
    static long tag(long serial, long byteSize) {
        assert byteSize >= MIN_SIZE && byteSize <= SIZE_MASK : "size " + byteSize;
        return (serial << SIZE_BITS) | byteSize;
    }

    /** The block size a tag carries. */
    static long sizeOf(long tag) {
        return tag & SIZE_MASK;
    }

    /** Allocates a block of the size {@code tag} carries, or fails the run when the allocator returns 0. */
    static long allocate(Workload workload, NativeAllocator allocator, long tag) {
        long address = allocator.alloc(sizeOf(tag), BYTE_ALIGNMENT);
        if (address == 0) {
            throw BenchFailure.exhausted(workload, allocator, sizeOf(tag));
        }
        return address;
    }

    /** Writes the tag into the first word and its complement into the last. */
    static void stamp(long address, long tag) {
        long byteSize = sizeOf(tag);
        Memory.putLong(address, tag);
        if (byteSize >= 2 * Long.BYTES) {
            Memory.putLong(address + byteSize - Long.BYTES, ~tag);
        }
    }

    /** Checks that the block still carries {@code tag} at both ends. */
    static void check(Workload workload, NativeAllocator allocator, long address, long tag, String when) {
        long byteSize = sizeOf(tag);
        expect(workload, allocator, address, 0, tag, byteSize, when);
        if (byteSize >= 2 * Long.BYTES) {
            expect(workload, allocator, address, byteSize - Long.BYTES, ~tag, byteSize, when);
        }
    }

    /** Checks a block known by its address alone; returns the tag found in it. */
    static long checkStamped(Workload workload, NativeAllocator allocator, long address, String when) {
        long tag = Memory.getLong(address);
        long byteSize = sizeOf(tag);
        if (byteSize < MIN_SIZE) {
            throw damaged(workload, allocator, address, byteSize, when, 0, tag, "a tag with a size of at least " + MIN_SIZE);
        }
        check(workload, allocator, address, tag, when);
        return tag;
    }

    /** Checks the block, then frees it. */
    static void checkAndFree(Workload workload, NativeAllocator allocator, long address, long tag, String when) {
        check(workload, allocator, address, tag, when);
        allocator.dealloc(address, sizeOf(tag), BYTE_ALIGNMENT);
    }

    static void expect(Workload workload, NativeAllocator allocator, long address, long offset, long expected,
                       long byteSize, String when) {
        long found = Memory.getLong(address + offset);
        if (found != expected) {
            throw damaged(workload, allocator, address, byteSize, when, offset, found, String.format("0x%x", expected));
        }
    }

    private static BenchFailure damaged(Workload workload, NativeAllocator allocator, long address, long byteSize,
                                        String when, long offset, long found, String expected) {
        return new BenchFailure(String.format("%s: allocator '%s': block 0x%x of %d bytes %s: word at offset %d is"
                + " 0x%x, expected %s (the block was damaged or handed out twice)",
                workload.name(), allocator.name(), address, byteSize, when, offset, found, expected));
    }

    /** A size from smalloc's mix (mostly small, sometimes medium, rarely large): {@link MixedWorkload#drawSize}. */
    static int drawMixSize(SplittableRandom random) {
        return MixedWorkload.drawSize(random);
    }
}
