package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

import org.smalloc4j.NativeAllocator;

/**
 * Base of the producer/consumer workloads ({@code xmalloc}, {@code free-hotspot}): producer threads
 * allocate blocks and put them in one shared bounded queue ({@link AddressQueue}); consumer threads
 * take them out and free them, so blocks are freed by a thread other than the one that allocated
 * them. Every block is stamped by its producer, and its tag travels with it through the queue, so
 * whoever frees it checks it against the producer's stamp.
 *
 * <p>No thread ever waits, so every thread always finishes its operations: a producer that finds
 * the queue full frees the oldest block itself; a consumer that finds it empty allocates a block and
 * queues it. With one thread, that thread is a producer and frees its own blocks that way. One
 * operation is one alloc or one free. The sizes are drawn from the seed; which thread frees which
 * block depends on timing.
 */
abstract class HandoffWorkload implements Workload {

    // chosen
    /** Blocks in flight between producers and consumers; a power of two. */
    static final int QUEUE_CAPACITY = 1024;
    /** Sizes in a plan before it repeats; a power of two. */
    static final int PLAN_LENGTH = 1 << 14;

    /** Is thread {@code threadIndex} of {@code threads} a producer? */
    abstract boolean producer(int threadIndex, int threads);

    /** A block size for the plan. */
    abstract int drawSize(SplittableRandom random);

    @Override
    public Case newCase(NativeAllocator allocator, int threads) {
        AddressQueue queue = new AddressQueue(QUEUE_CAPACITY);
        return new Case() {
            @Override
            public Workload.Worker newWorker(int threadIndex, long seed) {
                return new Worker(allocator, queue, producer(threadIndex, threads), seed);
            }

            @Override
            public void finish() {
                long[] taken = new long[2];
                while (queue.poll(taken)) {
                    Blocks.checkAndFree(HandoffWorkload.this, allocator, taken[0], taken[1], "left in the queue");
                }
            }
        };
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final AddressQueue queue;
        private final boolean producer;
        private final int[] planSize = new int[PLAN_LENGTH];
        private int step;
        private long serial;
        private long pending;      // allocated, not yet queued (the queue was full)
        private long pendingTag;
        private final long[] taken = new long[2];  // a block polled from the queue: address, tag

        Worker(NativeAllocator allocator, AddressQueue queue, boolean producer, long seed) {
            this.allocator = allocator;
            this.queue = queue;
            this.producer = producer;
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < PLAN_LENGTH; i++) {
                planSize[i] = drawSize(random);
            }
            this.serial = random.nextLong() >>> Blocks.SIZE_BITS;
        }

        @Override
        public void run(long ops) {
            long done = 0;
            while (done < ops) {
                if (pending != 0) {
                    if (queue.offer(pending, pendingTag)) {
                        pending = 0;
                    } else if (queue.poll(taken)) { // full: free the oldest block here
                        Blocks.checkAndFree(HandoffWorkload.this, allocator, taken[0], taken[1], "before free");
                        done++;
                    }
                } else if (producer) {
                    allocate();
                    done++;
                } else {
                    if (queue.poll(taken)) {
                        Blocks.checkAndFree(HandoffWorkload.this, allocator, taken[0], taken[1], "before free");
                    } else {
                        allocate(); // empty: produce one instead of waiting
                    }
                    done++;
                }
            }
        }

        /** Allocates and stamps the plan's next block into {@code pending}. */
        private void allocate() {
            final int s = step;
            step = (s + 1) & (PLAN_LENGTH - 1);
            final long blockTag = Blocks.tag(serial++, planSize[s]);
            final long block = Blocks.allocate(HandoffWorkload.this, allocator, blockTag);
            Blocks.stamp(block, blockTag);
            pending = block;
            pendingTag = blockTag;
        }

        @Override
        public void finish() {
            if (pending != 0) {
                Blocks.checkAndFree(HandoffWorkload.this, allocator, pending, pendingTag, "at the end");
                pending = 0;
            }
        }
    }
}
