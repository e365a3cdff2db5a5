package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

import org.smalloc4j.NativeAllocator;

/**
 * Base of {@code ad}, {@code adr}, {@code adww} and {@code adrww}: each thread keeps a ring of
 * {@link #RING} live blocks of smalloc's size mix (mostly small, rarely large,
 * {@link MixedWorkload#drawSize}). A step frees the oldest block and allocates a new one in its
 * place; with reallocation, it then reallocates a planned ring entry to a planned size. With writes,
 * every new block is stamped (tag in the first word, its complement in the last), checked before it
 * is freed and before and after a realloc (the first word must survive: read back), and stamped
 * again after a realloc. One operation is one alloc, one free or one realloc, writes included.
 */
abstract class RingWorkload implements Workload {

    // chosen
    /** Live blocks per thread: a FIFO short enough to stay in cache, long enough to mix sizes. */
    static final int RING = 64;
    /** Steps in a plan before it repeats; a power of two. */
    static final int PLAN_LENGTH = 1 << 16;

    abstract boolean reallocates();

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
        private final boolean reallocates = reallocates();
        private final boolean writes = writes();
        private final int opsPerStep = reallocates ? 3 : 2;
        private final int[] planSize = new int[PLAN_LENGTH];
        private final int[] planReallocSize = new int[PLAN_LENGTH];
        private final int[] planReallocIndex = new int[PLAN_LENGTH];
        private final long[] address = new long[RING];
        private final long[] tag = new long[RING];
        private int oldest;
        private int step;
        private int phase;        // 0 = free the oldest, 1 = allocate in its place, 2 = realloc
        private long serial;

        Worker(NativeAllocator allocator, long seed) {
            this.allocator = allocator;
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < PLAN_LENGTH; i++) {
                planSize[i] = MixedWorkload.drawSize(random);
                planReallocSize[i] = MixedWorkload.drawSize(random);
                planReallocIndex[i] = random.nextInt(RING);
            }
            serial = random.nextLong() >>> Blocks.SIZE_BITS;
            for (int i = 0; i < RING; i++) { // the ring starts full, untimed
                tag[i] = Blocks.tag(serial++, MixedWorkload.drawSize(random));
                address[i] = Blocks.allocate(RingWorkload.this, allocator, tag[i]);
                if (writes) {
                    Blocks.stamp(address[i], tag[i]);
                }
            }
        }

        @Override
        public void run(long ops) {
            final RingWorkload workload = RingWorkload.this;
            for (long i = 0; i < ops; i++) {
                final int s = step;
                switch (phase) {
                    case 0 -> {
                        if (writes) {
                            Blocks.check(workload, allocator, address[oldest], tag[oldest], "before free");
                        }
                        allocator.dealloc(address[oldest], Blocks.sizeOf(tag[oldest]), Blocks.BYTE_ALIGNMENT);
                    }
                    case 1 -> {
                        final long blockTag = Blocks.tag(serial++, planSize[s]);
                        final long block = Blocks.allocate(workload, allocator, blockTag);
                        if (writes) {
                            Blocks.stamp(block, blockTag);
                        }
                        address[oldest] = block;
                        tag[oldest] = blockTag;
                        oldest = (oldest + 1) & (RING - 1);
                    }
                    default -> reallocate(planReallocIndex[s], planReallocSize[s]);
                }
                if (++phase == opsPerStep) {
                    phase = 0;
                    step = (s + 1) & (PLAN_LENGTH - 1);
                }
            }
        }

        private void reallocate(int index, long newSize) {
            final long oldTag = tag[index];
            final long oldSize = Blocks.sizeOf(oldTag);
            if (writes) {
                Blocks.check(RingWorkload.this, allocator, address[index], oldTag, "before realloc");
            }
            long moved = allocator.realloc(address[index], oldSize, Blocks.BYTE_ALIGNMENT, newSize);
            if (moved == 0) {
                throw BenchFailure.exhausted(RingWorkload.this, allocator, newSize);
            }
            address[index] = moved;
            final long newTag = Blocks.tag(serial++, newSize);
            tag[index] = newTag;
            if (writes) {
                // read back: both sizes are at least 8, so the first word is always kept
                Blocks.expect(RingWorkload.this, allocator, moved, 0, oldTag, newSize,
                        "after realloc from " + oldSize + " bytes");
                Blocks.stamp(moved, newTag);
            }
        }

        @Override
        public void finish() {
            for (int i = 0; i < RING; i++) {
                if (phase == 1 && i == oldest) {
                    continue; // freed, not yet replaced
                }
                if (writes) {
                    Blocks.check(RingWorkload.this, allocator, address[i], tag[i], "at the end");
                }
                allocator.dealloc(address[i], Blocks.sizeOf(tag[i]), Blocks.BYTE_ALIGNMENT);
            }
        }
    }
}
