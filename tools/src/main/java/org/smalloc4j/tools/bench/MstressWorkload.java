package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLongArray;

import org.smalloc4j.NativeAllocator;

/**
 * {@code mstress}: after mimalloc-bench's mstress. Each thread keeps {@value #LIVE} slots of live
 * blocks. A step picks a random slot and, from the seed's plan: one time in
 * {@value #TRANSFER_ONE_IN}, swaps the slot's block (or its emptiness) with a random cell of a
 * shared transfer array of {@value #TRANSFER_CELLS} cells, so blocks move to other threads;
 * otherwise it checks and frees the slot's block if it has one, or allocates a new one: small
 * ({@value #MIN_SIZE} .. {@value #SMALL_MAX} bytes), or one time in {@value #LARGE_ONE_IN} large
 * (up to {@value #LARGE_MAX} bytes). Every block is stamped; a block received from the transfer
 * array is checked from its own content. One operation is one alloc or one free; a transfer is not
 * counted. Which thread receives which block depends on timing.
 */
public final class MstressWorkload implements Workload {

    // chosen
    static final int LIVE = 512;
    static final int TRANSFER_CELLS = 256;
    static final int TRANSFER_ONE_IN = 10;
    static final int MIN_SIZE = Blocks.MIN_SIZE;
    static final int SMALL_MAX = 1024;
    static final int LARGE_ONE_IN = 100;
    static final int LARGE_MAX = 1 << 20;
    /** Steps in a plan before it repeats; a power of two. */
    static final int PLAN_LENGTH = 1 << 16;

    @Override
    public String name() {
        return "mstress";
    }

    @Override
    public String description() {
        return "random alloc/free in 512 slots, 10% transfers, 1% large (to 1 MiB)";
    }

    @Override
    public String sizeLabel() {
        return MIN_SIZE + "-" + LARGE_MAX / (1 << 20) + "M";
    }

    @Override
    public Case newCase(NativeAllocator allocator, int threads) {
        AtomicLongArray transfer = new AtomicLongArray(TRANSFER_CELLS);
        return new Case() {
            @Override
            public Workload.Worker newWorker(int threadIndex, long seed) {
                return new Worker(allocator, transfer, seed);
            }

            @Override
            public void finish() {
                for (int cell = 0; cell < TRANSFER_CELLS; cell++) {
                    long block = transfer.getAndSet(cell, 0);
                    if (block != 0) {
                        long tag = Blocks.checkStamped(MstressWorkload.this, allocator, block, "left in transfer");
                        allocator.dealloc(block, Blocks.sizeOf(tag), Blocks.BYTE_ALIGNMENT);
                    }
                }
            }
        };
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final AtomicLongArray transfer;
        private final int[] planSlot = new int[PLAN_LENGTH];
        private final int[] planSize = new int[PLAN_LENGTH];
        private final int[] planTransferCell = new int[PLAN_LENGTH];   // -1 = no transfer
        private final long[] address = new long[LIVE];
        private final long[] tag = new long[LIVE];
        private int step;
        private long serial;

        Worker(NativeAllocator allocator, AtomicLongArray transfer, long seed) {
            this.allocator = allocator;
            this.transfer = transfer;
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < PLAN_LENGTH; i++) {
                planSlot[i] = random.nextInt(LIVE);
                planSize[i] = random.nextInt(LARGE_ONE_IN) == 0
                        ? random.nextInt(SMALL_MAX + 1, LARGE_MAX + 1)
                        : random.nextInt(MIN_SIZE, SMALL_MAX + 1);
                planTransferCell[i] = random.nextInt(TRANSFER_ONE_IN) == 0 ? random.nextInt(TRANSFER_CELLS) : -1;
            }
            this.serial = random.nextLong() >>> Blocks.SIZE_BITS;
        }

        @Override
        public void run(long ops) {
            final MstressWorkload workload = MstressWorkload.this;
            long done = 0;
            while (done < ops) {
                final int s = step;
                step = (s + 1) & (PLAN_LENGTH - 1);
                final int slot = planSlot[s];
                final int cell = planTransferCell[s];
                if (cell >= 0) {
                    long received = transfer.getAndSet(cell, address[slot]);
                    address[slot] = received;
                    if (received != 0) {
                        tag[slot] = Blocks.checkStamped(workload, allocator, received, "after transfer");
                    }
                } else if (address[slot] != 0) {
                    Blocks.checkAndFree(workload, allocator, address[slot], tag[slot], "before free");
                    address[slot] = 0;
                    done++;
                } else {
                    final long blockTag = Blocks.tag(serial++, planSize[s]);
                    final long block = Blocks.allocate(workload, allocator, blockTag);
                    Blocks.stamp(block, blockTag);
                    address[slot] = block;
                    tag[slot] = blockTag;
                    done++;
                }
            }
        }

        @Override
        public void finish() {
            for (int slot = 0; slot < LIVE; slot++) {
                if (address[slot] != 0) {
                    Blocks.checkAndFree(MstressWorkload.this, allocator, address[slot], tag[slot], "at the end");
                    address[slot] = 0;
                }
            }
        }
    }
}
