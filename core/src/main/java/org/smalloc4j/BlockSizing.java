package org.smalloc4j;

import java.lang.foreign.MemorySegment;

import org.smalloc4j.internal.AddressLayout;
import org.smalloc4j.internal.Checks;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * How a block handed to C finds its size again. C's {@code free(p)} and {@code realloc(p, n)} pass
 * no size, but {@link NativeAllocator#dealloc} and {@link NativeAllocator#realloc} must be given the
 * size the block was allocated with. {@link CAllocatorFunctions} asks its {@code BlockSizing}, which
 * is one of two:
 *
 * <ul>
 * <li>{@link #usableSize(Smalloc)}: <b>no header</b>. A Smalloc heap reads a block's slot size from
 * its address ({@link Smalloc#usableSize}), so the request is rounded up to the slot it will get and
 * the slot size is the size the block is allocated, freed and reported (C's usable size) with. The
 * allocator may be the heap itself or any decorator whose blocks come from it (a tracking allocator
 * over it): the sizes it sees are exact. Foreign and interior pointers are always detected (the heap
 * range-checks the address before reading anything); double frees only by a
 * {@linkplain Smalloc.Builder#checked checked} heap.</li>
 * <li>{@link #header()}: a <b>16-byte header</b> in front of each block, for allocators that cannot
 * tell a block's size from its address (libc, jemalloc, mimalloc, a bump arena, a decorator):
 * <pre>
 *  block (16-aligned)      block + 8                block + 16 = the pointer C gets (16-aligned)
 *  +-----------------------+------------------------+--------------------------------------
 *  | blockSize (8 bytes)   | check word (8 bytes)   | C's n bytes ...
 *  +-----------------------+------------------------+--------------------------------------
 *  blockSize = n + 16, the size given to alloc, dealloc and realloc
 *  check word = a hash of block and blockSize, cleared when the block is freed
 * </pre>
 * The header keeps C's pointer aligned to 16 (C's {@code max_align_t}) and costs 16 bytes a block.
 * <b>It cannot reliably detect foreign pointers</b>: it must read the 16 bytes before the pointer,
 * which for a pointer that did not come from it is undefined behaviour (it may fault and crash the
 * JVM, as {@code free} of such a pointer does in C). The check word catches misaligned pointers
 * without reading, and many stray or already-freed pointers whose header is readable; it is a
 * safety net, not a guarantee.</li>
 * </ul>
 *
 * <p>{@link #forAllocator(NativeAllocator)} picks the header-free sizing for a {@link Smalloc} and
 * the header for every other allocator. Every block is allocated with alignment
 * {@value #ALIGNMENT}, what C's {@code malloc} guarantees.
 */
public abstract sealed class BlockSizing {

    /** Every block is allocated with this alignment: C's {@code max_align_t} on 64-bit platforms. */
    public static final long ALIGNMENT = 16;

    /** Bytes of the header in front of each block of {@link #header()}: keeps {@link #ALIGNMENT}. */
    public static final long HEADER_BYTES = 16;

    /** Every native address, for reading and writing headers without a segment per call. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private BlockSizing() {
    }

    /** The 16-byte header in front of every block: works over any allocator. */
    public static BlockSizing header() {
        return Header.INSTANCE;
    }

    /**
     * No header: sizes are read from {@code heap}'s addresses. The allocator the functions are made
     * for must hand out blocks of {@code heap} (the heap itself, or a decorator over it); a block from
     * elsewhere is given back and the allocation fails (recorded as a failure).
     */
    public static BlockSizing usableSize(Smalloc heap) {
        if (heap == null) {
            throw new IllegalArgumentException("heap is null");
        }
        return new UsableSize(heap);
    }

    /** {@link #usableSize(Smalloc)} when {@code allocator} is a {@link Smalloc}, else {@link #header()}. */
    public static BlockSizing forAllocator(NativeAllocator allocator) {
        return allocator instanceof Smalloc heap ? usableSize(heap) : header();
    }

    /** Bytes this sizing adds in front of each block: {@value #HEADER_BYTES} or 0. */
    public abstract long headerBytes();

    // ------------------------------------------------------------ the protocol of CAllocatorFunctions
    // Sizes are C's, non-negative; every method may throw (the caller records it and answers NULL).

    /** A block with at least {@code cSize} usable bytes, or 0 when the allocator has none. */
    abstract long allocate(NativeAllocator allocator, long cSize, boolean zeroed);

    /** Frees the block behind C's {@code pointer} (not 0). */
    abstract void free(NativeAllocator allocator, long pointer);

    /**
     * Resizes the block behind {@code pointer} (not 0) to at least {@code cSize} usable bytes,
     * keeping its content; 0 when it cannot, the block then intact and still allocated.
     */
    abstract long reallocate(NativeAllocator allocator, long pointer, long cSize);

    /** The bytes C may use at {@code pointer} (not 0): at least what it asked for. */
    abstract long usableSize(long pointer);

    /** The usable size a request of {@code cSize} bytes would get, or {@code cSize} if none can. */
    abstract long roundUp(long cSize);

    // ------------------------------------------------------------ header

    private static final class Header extends BlockSizing {
        static final Header INSTANCE = new Header();

        private static final long CHECK_SEED = 0x736d_616c_6c6f_6334L; // "smalloc4"
        private static final long CHECK_MULTIPLIER = 0x9e37_79b9_7f4a_7c15L; // 2^64 / golden ratio

        @Override
        public long headerBytes() {
            return HEADER_BYTES;
        }

        @Override
        long allocate(NativeAllocator allocator, long cSize, boolean zeroed) {
            if (cSize > Long.MAX_VALUE - HEADER_BYTES) {
                return 0;
            }
            long blockSize = cSize + HEADER_BYTES;
            long block = zeroed ? allocator.allocZeroed(blockSize, ALIGNMENT) : allocator.alloc(blockSize, ALIGNMENT);
            return block == 0 ? 0 : seal(block, blockSize);
        }

        @Override
        void free(NativeAllocator allocator, long pointer) {
            long block = blockOf(pointer);
            long blockSize = EVERYTHING.get(JAVA_LONG, block);
            long check = EVERYTHING.get(JAVA_LONG, block + 8);
            // cleared before the block goes (afterwards it is not ours to write): a second free is caught
            EVERYTHING.set(JAVA_LONG, block + 8, 0L);
            try {
                allocator.dealloc(block, blockSize, ALIGNMENT);
            } catch (RuntimeException | Error refused) {
                EVERYTHING.set(JAVA_LONG, block + 8, check); // still allocated: still freeable
                throw refused;
            }
        }

        @Override
        long reallocate(NativeAllocator allocator, long pointer, long cSize) {
            long block = blockOf(pointer);
            if (cSize > Long.MAX_VALUE - HEADER_BYTES) {
                return 0;
            }
            long oldBlockSize = EVERYTHING.get(JAVA_LONG, block);
            long newBlockSize = cSize + HEADER_BYTES;
            long moved = allocator.realloc(block, oldBlockSize, ALIGNMENT, newBlockSize);
            return moved == 0 ? 0 : seal(moved, newBlockSize);
        }

        @Override
        long usableSize(long pointer) {
            return EVERYTHING.get(JAVA_LONG, blockOf(pointer)) - HEADER_BYTES;
        }

        @Override
        long roundUp(long cSize) {
            return cSize > Long.MAX_VALUE - ALIGNMENT ? cSize : (cSize + ALIGNMENT - 1) & -ALIGNMENT;
        }

        /** Writes the header of a new block; returns the pointer C gets. */
        private static long seal(long block, long blockSize) {
            if ((block & (ALIGNMENT - 1)) != 0) {
                throw new IllegalStateException("the allocator returned " + Checks.hex(block) + ", not aligned to "
                        + ALIGNMENT + " as asked");
            }
            EVERYTHING.set(JAVA_LONG, block, blockSize);
            EVERYTHING.set(JAVA_LONG, block + 8, check(block, blockSize));
            return block + HEADER_BYTES;
        }

        /** The block behind C's pointer, its header checked; reads the 16 bytes before the pointer. */
        private static long blockOf(long pointer) {
            if ((pointer & (ALIGNMENT - 1)) != 0 || Long.compareUnsigned(pointer, HEADER_BYTES) < 0) {
                throw new IllegalArgumentException("address " + Checks.hex(pointer)
                        + " was not handed out by these C functions: it is not aligned to " + ALIGNMENT);
            }
            long block = pointer - HEADER_BYTES;
            long blockSize = EVERYTHING.get(JAVA_LONG, block);
            if (EVERYTHING.get(JAVA_LONG, block + 8) != check(block, blockSize)) {
                throw new IllegalArgumentException("address " + Checks.hex(pointer)
                        + " was not handed out by these C functions, or was freed already: its header's check word"
                        + " does not match");
            }
            return block;
        }

        /** Never 0, so that a cleared check word never matches. */
        private static long check(long block, long blockSize) {
            return ((block ^ CHECK_SEED) * CHECK_MULTIPLIER ^ blockSize) | 1;
        }

        @Override
        public String toString() {
            return "BlockSizing.header()";
        }
    }

    // ------------------------------------------------------------ usable size, no header

    private static final class UsableSize extends BlockSizing {
        private final Smalloc heap;

        UsableSize(Smalloc heap) {
            this.heap = heap;
        }

        @Override
        public long headerBytes() {
            return 0;
        }

        @Override
        long allocate(NativeAllocator allocator, long cSize, boolean zeroed) {
            long slotSize = slotSizeFor(cSize);
            if (slotSize < 0) {
                return 0;
            }
            long block = zeroed ? allocator.allocZeroed(slotSize, ALIGNMENT) : allocator.alloc(slotSize, ALIGNMENT);
            return block == 0 ? 0 : declareUsable(allocator, block, slotSize);
        }

        @Override
        void free(NativeAllocator allocator, long pointer) {
            // usableSize range-checks the address before reading anything: foreign pointers are IAE
            allocator.dealloc(pointer, heap.usableSize(pointer), ALIGNMENT);
        }

        @Override
        long reallocate(NativeAllocator allocator, long pointer, long cSize) {
            long usable = heap.usableSize(pointer);
            long slotSize = slotSizeFor(cSize);
            if (slotSize < 0) {
                return 0;
            }
            if (slotSize <= usable) {
                return pointer; // fits the slot: C gets the same block, its declared size unchanged
            }
            if (allocator == heap) {
                // the heap ignores the declared size (checked mode: it must fit the slot), so its own
                // realloc may move the block to a roomier slot for the next growth
                return heap.realloc(pointer, usable, ALIGNMENT, slotSize);
            }
            // a decorator must see exact sizes: a new block declared at its slot size, copy, free
            long moved = allocate(allocator, cSize, false);
            if (moved == 0) {
                return 0;
            }
            MemorySegment.copy(EVERYTHING, pointer, EVERYTHING, moved, usable);
            allocator.dealloc(pointer, usable, ALIGNMENT);
            return moved;
        }

        @Override
        long usableSize(long pointer) {
            return heap.usableSize(pointer);
        }

        @Override
        long roundUp(long cSize) {
            long slotSize = slotSizeFor(cSize);
            return slotSize < 0 ? cSize : slotSize;
        }

        /** The slot the heap picks for {@code cSize} bytes at {@link #ALIGNMENT}, or -1 if too large. */
        private long slotSizeFor(long cSize) {
            return cSize > heap.largestSlot() ? -1 : 1L << AddressLayout.sizeClassFor(cSize, ALIGNMENT);
        }

        /**
         * Makes the size the block was allocated with its slot size, which is what free and realloc
         * will read from its address. They differ only when the heap served a larger slot than asked
         * (every slab of the class was full and the request overflowed); a decorator is then told
         * with an in-place realloc to the slot size.
         */
        private long declareUsable(NativeAllocator allocator, long block, long slotSize) {
            long usable;
            try {
                usable = heap.usableSize(block);
            } catch (IllegalArgumentException notOfHeap) {
                allocator.dealloc(block, slotSize, ALIGNMENT);
                throw new IllegalStateException("allocator '" + allocator.name() + "' handed out " + Checks.hex(block)
                        + ", which is not a block of heap '" + heap.name() + "': BlockSizing.usableSize(heap) needs"
                        + " an allocator whose blocks come from that heap", notOfHeap);
            }
            if (usable == slotSize || allocator == heap) {
                return block;
            }
            long declared = allocator.realloc(block, slotSize, ALIGNMENT, usable);
            if (declared == block) {
                return block;
            }
            if (declared == 0) { // a decorator refused (a byte limit): the block is still slotSize
                allocator.dealloc(block, slotSize, ALIGNMENT);
                return 0;
            }
            allocator.dealloc(declared, usable, ALIGNMENT);
            throw new IllegalStateException("allocator '" + allocator.name() + "' moved " + Checks.hex(block)
                    + " on a realloc that fits its slot: BlockSizing.usableSize(heap) needs an allocator that keeps"
                    + " such blocks in place, as Smalloc does");
        }

        @Override
        public String toString() {
            return "BlockSizing.usableSize(" + heap.name() + ")";
        }
    }
}
