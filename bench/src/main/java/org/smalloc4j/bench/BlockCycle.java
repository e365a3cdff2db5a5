package org.smalloc4j.bench;

import java.lang.foreign.MemorySegment;

import org.smalloc4j.BumpArena;
import org.smalloc4j.NativeAllocator;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * How one benchmark thread takes a block and gives it back, one block per operation, through the raw
 * layer ({@link #raw}: {@code alloc}, an address) or the FFM layer ({@link #ffm}: {@code allocate},
 * a zero-filled segment). Every block gets one byte written, so that its memory is really touched.
 * Each JMH fork runs one allocator, so the call to the one subclass it uses is monomorphic and inlined.
 */
abstract sealed class BlockCycle permits BlockCycle.FreeEach, BlockCycle.ResetEvery {

    /** Alignment of every block: a {@code long}'s, as in {@code smalloc4j bench}. */
    static final long BYTE_ALIGNMENT = 8;

    /** One block of {@code byteSize} through the raw layer; returns its address. */
    abstract long raw(long byteSize);

    /**
     * One block of {@code byteSize} through the FFM layer; returns its segment, which JMH's blackhole
     * takes, so that the segment object is really made (returned, as a caller keeps it; an address
     * alone lets the JIT drop the object on some call paths and not on others).
     */
    abstract MemorySegment ffm(long byteSize);

    /** Gives back everything this thread still holds; the allocator stays open. */
    abstract void close();

    /** Writes a byte at a block's address; fails as the FFM layer would rather than write to address 0. */
    static long touched(NativeAllocator heap, long address, long byteSize) {
        if (address == 0) {
            throw new OutOfMemoryError(heap.name() + " could not allocate " + byteSize + " bytes");
        }
        BenchAllocators.writeByte(address);
        return address;
    }

    /** The malloc way: each block is freed right after it is written (a pair per operation). */
    static final class FreeEach extends BlockCycle {

        private final NativeAllocator heap;

        FreeEach(NativeAllocator heap) {
            this.heap = heap;
        }

        @Override
        long raw(long byteSize) {
            final long address = touched(heap, heap.alloc(byteSize, BYTE_ALIGNMENT), byteSize);
            heap.dealloc(address, byteSize, BYTE_ALIGNMENT);
            return address;
        }

        @Override
        MemorySegment ffm(long byteSize) {
            final MemorySegment segment = heap.allocate(byteSize, BYTE_ALIGNMENT);
            segment.set(JAVA_BYTE, 0, (byte) 1);
            heap.free(segment);
            return segment;
        }

        @Override
        void close() {
            // every block went back in its own operation
        }
    }

    /**
     * The arena way: a {@link BumpArena} of this thread allocates and never frees a block; every
     * {@value #BLOCKS_PER_RESET}th block is followed by {@code reset()}, which frees them all. So one
     * operation is one allocation plus a sixty-fourth of a reset, as in a request that allocates
     * {@value #BLOCKS_PER_RESET} blocks and drops them together. The chunk holds all
     * {@value #BLOCKS_PER_RESET} blocks (at least the default 64 KiB), so that every size stays on the
     * bump path: one chunk serves every generation, none is taken from the parent after the first,
     * and no block becomes a large block of the parent.
     */
    static final class ResetEvery extends BlockCycle {

        /** Blocks per generation: a request-sized batch that a 64 KiB chunk holds up to 1 KiB blocks. */
        static final int BLOCKS_PER_RESET = 64;

        private final BumpArena arena;
        private int sinceReset;

        ResetEvery(NativeAllocator parent, long byteSize) {
            long slot = (byteSize + BYTE_ALIGNMENT - 1) & -BYTE_ALIGNMENT;
            // a bump arena's block never ends at its chunk's end: room for one more alignment step
            long generation = BLOCKS_PER_RESET * slot + BYTE_ALIGNMENT;
            this.arena = BumpArena.of(parent, Math.max(BumpArena.DEFAULT_CHUNK_BYTES, generation));
        }

        /** This thread's arena (setup checks it). */
        BumpArena arena() {
            return arena;
        }

        @Override
        long raw(long byteSize) {
            final long address = touched(arena, arena.alloc(byteSize, BYTE_ALIGNMENT), byteSize);
            endOfBlock();
            return address;
        }

        @Override
        MemorySegment ffm(long byteSize) {
            final MemorySegment segment = arena.allocate(byteSize, BYTE_ALIGNMENT);
            segment.set(JAVA_BYTE, 0, (byte) 1);
            endOfBlock();
            return segment;
        }

        private void endOfBlock() {
            if (++sinceReset == BLOCKS_PER_RESET) {
                sinceReset = 0;
                arena.reset();
            }
        }

        @Override
        void close() {
            arena.close(); // gives its chunk back to the parent
        }
    }
}
