package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

import org.smalloc4j.NativeAllocator;

/**
 * Base of {@code glibc-simple} and {@code glibc-thread}, after glibc's malloc micro-benchmarks: a
 * thread allocates a batch of {@value #BATCH} blocks of random small sizes ({@value #MIN_SIZE} ..
 * {@value #MAX_SIZE} bytes, from the seed), each stamped, then checks and frees them in the order it
 * allocated them, and starts over. One operation is one alloc or one free.
 */
abstract class GlibcLoopWorkload implements Workload {

    // chosen
    /** Blocks allocated before they are all freed. */
    static final int BATCH = 100;
    static final int MIN_SIZE = Blocks.MIN_SIZE;
    /** Small sizes: glibc's tcache and fastbin range. */
    static final int MAX_SIZE = 512;
    /** Sizes in a plan before it repeats; a power of two. */
    static final int PLAN_LENGTH = 1 << 14;

    @Override
    public String sizeLabel() {
        return MIN_SIZE + "-" + MAX_SIZE;
    }

    @Override
    public Workload.Worker newWorker(NativeAllocator allocator, long seed) {
        return new Worker(allocator, seed);
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final int[] planSize = new int[PLAN_LENGTH];
        private final long[] address = new long[BATCH];
        private final long[] tag = new long[BATCH];
        private int allocated;     // blocks of the batch allocated so far
        private int freed;         // of those, freed so far (once the batch is full)
        private int step;
        private long serial;

        Worker(NativeAllocator allocator, long seed) {
            this.allocator = allocator;
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < PLAN_LENGTH; i++) {
                planSize[i] = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
            }
            this.serial = random.nextLong() >>> Blocks.SIZE_BITS;
        }

        @Override
        public void run(long ops) {
            final GlibcLoopWorkload workload = GlibcLoopWorkload.this;
            for (long i = 0; i < ops; i++) {
                if (allocated < BATCH) {
                    final int s = step;
                    step = (s + 1) & (PLAN_LENGTH - 1);
                    final long blockTag = Blocks.tag(serial++, planSize[s]);
                    final long block = Blocks.allocate(workload, allocator, blockTag);
                    Blocks.stamp(block, blockTag);
                    address[allocated] = block;
                    tag[allocated] = blockTag;
                    allocated++;
                } else {
                    Blocks.checkAndFree(workload, allocator, address[freed], tag[freed], "before free");
                    if (++freed == BATCH) {
                        allocated = 0;
                        freed = 0;
                    }
                }
            }
        }

        @Override
        public void finish() {
            for (int i = freed; i < allocated; i++) {
                Blocks.checkAndFree(GlibcLoopWorkload.this, allocator, address[i], tag[i], "at the end");
            }
            allocated = 0;
            freed = 0;
        }
    }
}
