package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.smalloc4j.NativeAllocator;

/**
 * {@code larson}: after Larson and Krishnan's server simulation. Each thread holds an array of
 * {@value #SLOTS} live blocks of random sizes ({@value #MIN_SIZE} .. {@value #MAX_SIZE} bytes); a
 * step picks a random slot, checks and frees its block, and allocates a new random-size block in
 * its place. In the original, a thread exits after a number of rounds and a new thread inherits its
 * array; here, every {@value #HANDOVER_STEPS} steps a thread hands its array over instead: it swaps
 * it for the one in a random hand-over cell (one cell per thread, each filled with an array of its
 * own at the start), so blocks end up freed by threads that did not allocate them. One operation is
 * one alloc or one free (a step is two). Slots, sizes and cells come from the seed; which thread
 * gets which array depends on timing.
 */
public final class LarsonWorkload implements Workload {

    // chosen
    /** Live blocks per array: the original's "chunks per thread" at a size that fits 2 cores. */
    static final int SLOTS = 1000;
    static final int MIN_SIZE = Blocks.MIN_SIZE;
    /** The size range of mimalloc-bench's larson run. */
    static final int MAX_SIZE = 1000;
    /** Steps a thread runs on an array before it hands the array over. */
    static final int HANDOVER_STEPS = 10_000;
    /** Steps in a plan before it repeats; a power of two. */
    static final int PLAN_LENGTH = 1 << 16;

    @Override
    public String name() {
        return "larson";
    }

    @Override
    public String description() {
        return "server sim: replace random blocks (8-1000 B) in 1000 slots, hand arrays over";
    }

    @Override
    public String sizeLabel() {
        return MIN_SIZE + "-" + MAX_SIZE;
    }

    @Override
    public Case newCase(NativeAllocator allocator, int threads) {
        // an array is long[2 * SLOTS]: address at 2 * slot, tag at 2 * slot + 1
        AtomicReferenceArray<long[]> cells = new AtomicReferenceArray<>(threads);
        return new Case() {
            @Override
            public Workload.Worker newWorker(int threadIndex, long seed) {
                Worker worker = new Worker(allocator, cells, seed);
                cells.set(threadIndex, worker.filledArray());
                return worker;
            }

            @Override
            public void finish() {
                for (int i = 0; i < cells.length(); i++) {
                    long[] array = cells.getAndSet(i, null);
                    if (array != null) {
                        freeAll(allocator, array);
                    }
                }
            }
        };
    }

    private void freeAll(NativeAllocator allocator, long[] array) {
        for (int slot = 0; slot < SLOTS; slot++) {
            Blocks.checkAndFree(this, allocator, array[2 * slot], array[2 * slot + 1], "at the end");
        }
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final AtomicReferenceArray<long[]> cells;
        private final SplittableRandom random;
        private final int[] planSlot = new int[PLAN_LENGTH];
        private final int[] planSize = new int[PLAN_LENGTH];
        private final int[] planCell = new int[PLAN_LENGTH];
        private long[] array;
        private int step;
        private int stepsOnArray;
        private boolean freed;     // the step's slot was freed; the next op allocates into it
        private long serial;

        Worker(NativeAllocator allocator, AtomicReferenceArray<long[]> cells, long seed) {
            this.allocator = allocator;
            this.cells = cells;
            this.random = new SplittableRandom(seed);
            for (int i = 0; i < PLAN_LENGTH; i++) {
                planSlot[i] = random.nextInt(SLOTS);
                planSize[i] = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
                planCell[i] = random.nextInt(cells.length());
            }
            this.serial = random.nextLong() >>> Blocks.SIZE_BITS;
            this.array = filledArray();
        }

        /** A new array with a block in every slot (made before the timing). */
        long[] filledArray() {
            long[] filled = new long[2 * SLOTS];
            for (int slot = 0; slot < SLOTS; slot++) {
                long blockTag = Blocks.tag(serial++, random.nextInt(MIN_SIZE, MAX_SIZE + 1));
                long block = Blocks.allocate(LarsonWorkload.this, allocator, blockTag);
                Blocks.stamp(block, blockTag);
                filled[2 * slot] = block;
                filled[2 * slot + 1] = blockTag;
            }
            return filled;
        }

        @Override
        public void run(long ops) {
            final LarsonWorkload workload = LarsonWorkload.this;
            for (long i = 0; i < ops; i++) {
                final int s = step;
                final int slot = planSlot[s];
                final long[] blocks = array;
                if (!freed) {
                    Blocks.checkAndFree(workload, allocator, blocks[2 * slot], blocks[2 * slot + 1], "before free");
                    freed = true;
                    continue;
                }
                final long blockTag = Blocks.tag(serial++, planSize[s]);
                final long block = Blocks.allocate(workload, allocator, blockTag);
                Blocks.stamp(block, blockTag);
                blocks[2 * slot] = block;
                blocks[2 * slot + 1] = blockTag;
                freed = false;
                step = (s + 1) & (PLAN_LENGTH - 1);
                if (++stepsOnArray == HANDOVER_STEPS) {
                    stepsOnArray = 0;
                    array = cells.getAndSet(planCell[s], blocks); // the swap publishes the blocks' stamps
                }
            }
        }

        @Override
        public void finish() {
            if (freed) { // the slot of an unfinished step is empty: fill it, so that freeAll sees full arrays
                final int slot = planSlot[step];
                final long blockTag = Blocks.tag(serial++, MIN_SIZE);
                array[2 * slot] = Blocks.allocate(LarsonWorkload.this, allocator, blockTag);
                array[2 * slot + 1] = blockTag;
                Blocks.stamp(array[2 * slot], blockTag);
                freed = false;
            }
            freeAll(allocator, array);
        }
    }
}
