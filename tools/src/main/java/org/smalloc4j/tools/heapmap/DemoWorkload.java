package org.smalloc4j.tools.heapmap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import org.smalloc4j.NativeAllocator;
import org.smalloc4j.tools.bench.BenchFailure;
import org.smalloc4j.tools.bench.Workload;

/**
 * The heap map's own mix ({@code smalloc4j heapmap --workload demo}): a window of live blocks per
 * thread from 8 bytes to 2 MiB, so that a map shows every part of a heap at once: many small classes
 * in use, freed holes (touched, free slots), slabs of several threads, and large slots that gave their
 * pages back when freed.
 *
 * <p>An operation picks a slot of the thread's window at random: an empty slot gets a new block,
 * whose requested bytes are written in full (the rest of its slot stays untouched, as in a program
 * that asks for 40 KiB and gets a 64 KiB slot); a live one is checked and freed. About half the window
 * is live at any time.
 */
public final class DemoWorkload implements Workload {

    // chosen
    /** Live-block window per thread. */
    static final int WINDOW = 512;
    /** Sizes 8 .. 256 bytes, most blocks. */
    static final int SMALL_MAX = 256;
    /** Sizes 257 bytes .. 16 KiB (log-uniform), this share of the blocks (percent). */
    static final int MEDIUM_MAX = 16 << 10;
    static final int MEDIUM_PERCENT = 25;
    /** Sizes 16 KiB .. 2 MiB (log-uniform), this share (percent): page release shows from 1 MiB. */
    static final int LARGE_MAX = 2 << 20;
    static final int LARGE_PERCENT = 5;
    static final int MIN_SIZE = 8;
    static final long BYTE_ALIGNMENT = 8;

    /** One segment over all memory: blocks are written and checked by address, no segment per block. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String sizeLabel() {
        return MIN_SIZE + "-" + (LARGE_MAX >> 20) + "M";
    }

    @Override
    public String description() {
        return "alloc/free over " + WINDOW + " live blocks per thread, 8 B to 2 MiB, each written in full";
    }

    @Override
    public Workload.Worker newWorker(NativeAllocator allocator, long seed) {
        return new Worker(allocator, new SplittableRandom(seed));
    }

    /** A block size: mostly small, a quarter medium, a few large. */
    static long drawSize(SplittableRandom random) {
        int percent = random.nextInt(100);
        if (percent < LARGE_PERCENT) {
            return logUniform(random, MEDIUM_MAX + 1, LARGE_MAX);
        }
        if (percent < LARGE_PERCENT + MEDIUM_PERCENT) {
            return logUniform(random, SMALL_MAX + 1, MEDIUM_MAX);
        }
        return random.nextInt(MIN_SIZE, SMALL_MAX + 1);
    }

    /** A size between {@code low} and {@code high} whose logarithm is uniform: every class alike. */
    private static long logUniform(SplittableRandom random, long low, long high) {
        double exponent = random.nextDouble(Math.log(low), Math.log(high));
        return Math.clamp(Math.round(Math.exp(exponent)), low, high);
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final SplittableRandom random;
        private final long[] address = new long[WINDOW];  // 0 = empty
        private final long[] byteSize = new long[WINDOW];
        private final byte[] fill = new byte[WINDOW];

        Worker(NativeAllocator allocator, SplittableRandom random) {
            this.allocator = allocator;
            this.random = random;
        }

        @Override
        public void run(long ops) {
            for (long i = 0; i < ops; i++) {
                int slot = random.nextInt(WINDOW);
                if (address[slot] == 0) {
                    allocate(slot);
                } else {
                    free(slot);
                }
            }
        }

        private void allocate(int slot) {
            long size = drawSize(random);
            long block = allocator.alloc(size, BYTE_ALIGNMENT);
            if (block == 0) {
                throw new BenchFailure("demo: allocator '" + allocator.name() + "' could not allocate " + size + " bytes");
            }
            byte value = (byte) (random.nextInt(255) + 1);
            EVERYTHING.asSlice(block, size).fill(value);
            address[slot] = block;
            byteSize[slot] = size;
            fill[slot] = value;
        }

        private void free(int slot) {
            long size = byteSize[slot];
            expect(slot, 0);
            expect(slot, size / 2);
            expect(slot, size - 1);
            allocator.dealloc(address[slot], size, BYTE_ALIGNMENT);
            address[slot] = 0;
        }

        private void expect(int slot, long offset) {
            byte found = EVERYTHING.get(ValueLayout.JAVA_BYTE, address[slot] + offset);
            if (found != fill[slot]) {
                throw new BenchFailure(String.format("demo: allocator '%s': block 0x%x of %d bytes: byte at offset %d"
                        + " is %d, expected %d (the block was damaged or handed out twice)",
                        allocator.name(), address[slot], byteSize[slot], offset, found, fill[slot]));
            }
        }

        @Override
        public void finish() {
            for (int slot = 0; slot < WINDOW; slot++) {
                if (address[slot] != 0) {
                    free(slot);
                }
            }
        }
    }
}
