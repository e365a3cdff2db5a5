package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

import org.smalloc4j.NativeAllocator;

/**
 * Base of the allocate-only workloads {@code a} and {@code aww}: each thread allocates blocks over
 * smalloc's size mix (mostly small, rarely large, {@link MixedWorkload#drawSize}) from a fixed-seed
 * plan, and keeps them until {@link #WINDOW} are live; then it checks and frees them all outside the
 * timing ({@link Workload.Worker#untimedNanos}). One operation is one allocation.
 */
abstract class WindowWorkload implements Workload {

    // chosen
    /** Live blocks per thread before they are freed, untimed: a few MiB of the mix. */
    static final int WINDOW = 4096;
    /** Sizes in a plan before it repeats; a power of two. */
    static final int PLAN_LENGTH = 1 << 16;

    /** Does the timed loop stamp each block (two word writes), or only allocate? */
    abstract boolean writes();

    @Override
    public String sizeLabel() {
        return Blocks.MIN_SIZE + "-" + MixedWorkload.LARGE_MAX / 1024 + "K";
    }

    @Override
    public Workload.Worker newWorker(NativeAllocator allocator, long seed) {
        return new Worker(allocator, seed);
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final int[] planSize = new int[PLAN_LENGTH];
        private final long[] address = new long[WINDOW];
        private final long[] tag = new long[WINDOW];
        private final boolean writes = writes();
        private int live;
        private int step;
        private long serial;
        private long untimed;

        Worker(NativeAllocator allocator, long seed) {
            this.allocator = allocator;
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < PLAN_LENGTH; i++) {
                planSize[i] = MixedWorkload.drawSize(random);
            }
            this.serial = random.nextLong() >>> Blocks.SIZE_BITS;
        }

        @Override
        public void run(long ops) {
            for (long i = 0; i < ops; i++) {
                if (live == WINDOW) {
                    long start = System.nanoTime();
                    freeAll();
                    untimed += System.nanoTime() - start;
                }
                final int s = step;
                step = (s + 1) & (PLAN_LENGTH - 1);
                final long blockTag = Blocks.tag(serial++, planSize[s]);
                final long block = Blocks.allocate(WindowWorkload.this, allocator, blockTag);
                if (writes) {
                    Blocks.stamp(block, blockTag);
                }
                address[live] = block;
                tag[live] = blockTag;
                live++;
            }
        }

        private void freeAll() {
            if (!writes) {
                // stamp every live block first: two live blocks that overlap spoil each other's stamp
                for (int i = 0; i < live; i++) {
                    Blocks.stamp(address[i], tag[i]);
                }
            }
            for (int i = 0; i < live; i++) {
                Blocks.checkAndFree(WindowWorkload.this, allocator, address[i], tag[i], "before free");
            }
            live = 0;
        }

        @Override
        public void finish() {
            freeAll();
        }

        @Override
        public long untimedNanos() {
            return untimed;
        }
    }
}
