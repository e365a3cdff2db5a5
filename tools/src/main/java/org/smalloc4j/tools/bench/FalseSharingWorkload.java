package org.smalloc4j.tools.bench;

import java.util.concurrent.atomic.AtomicLongArray;

import org.smalloc4j.NativeAllocator;

/**
 * Base of Hoard's false-sharing tests, {@code cache-thrash} and {@code cache-scratch}. Each thread
 * repeatedly allocates a {@value #BYTE_SIZE}-byte object, writes it {@value #WRITES} times (stores
 * the JIT may not merge), checks the last value, and frees it. If the allocator hands threads
 * objects that share a cache line, the writes of different threads fight over that line and the
 * workload slows down: that is what it measures.
 *
 * <p>{@code cache-scratch} starts with passive false sharing: the case's making thread allocates one
 * object per thread (likely side by side), and each thread first frees the one it was given, so an
 * allocator that reuses a freed block for the thread that freed it hands each thread memory next to
 * the others'. One operation is one alloc or one free, the writes included in the alloc's.
 */
abstract class FalseSharingWorkload implements Workload {

    // chosen
    /** Hoard's object size: far below a cache line. */
    static final int BYTE_SIZE = 8;
    /** Writes per object: enough that the writes, not the allocator, dominate when lines are shared. */
    static final int WRITES = 256;

    /** Does each thread first free an object allocated by the case's making thread? */
    abstract boolean scratch();

    @Override
    public String sizeLabel() {
        return Integer.toString(BYTE_SIZE);
    }

    @Override
    public Case newCase(NativeAllocator allocator, int threads) {
        AtomicLongArray given = new AtomicLongArray(threads);
        if (scratch()) {
            for (int i = 0; i < threads; i++) {
                long tag = Blocks.tag(i, BYTE_SIZE);
                long block = Blocks.allocate(this, allocator, tag);
                Blocks.stamp(block, tag);
                given.set(i, block);
            }
        }
        return new Case() {
            @Override
            public Workload.Worker newWorker(int threadIndex, long seed) {
                return new Worker(allocator, given, threadIndex, seed);
            }

            @Override
            public void finish() {
                for (int i = 0; i < given.length(); i++) {
                    long block = given.getAndSet(i, 0);
                    if (block != 0) {
                        Blocks.checkAndFree(FalseSharingWorkload.this, allocator, block, Blocks.tag(i, BYTE_SIZE), "at the end");
                    }
                }
            }
        };
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final AtomicLongArray given;
        private final int threadIndex;
        private long serial;
        private long block;        // the object allocated and written, not yet freed

        Worker(NativeAllocator allocator, AtomicLongArray given, int threadIndex, long seed) {
            this.allocator = allocator;
            this.given = given;
            this.threadIndex = threadIndex;
            this.serial = seed >>> Blocks.SIZE_BITS;
        }

        @Override
        public void run(long ops) {
            final FalseSharingWorkload workload = FalseSharingWorkload.this;
            for (long i = 0; i < ops; i++) {
                long first = given.get(threadIndex);
                if (first != 0) { // cache-scratch's first op: free the object another thread allocated
                    given.set(threadIndex, 0);
                    Blocks.checkAndFree(workload, allocator, first, Blocks.tag(threadIndex, BYTE_SIZE), "before free");
                } else if (block == 0) {
                    final long base = Blocks.tag(serial, BYTE_SIZE);
                    serial += WRITES;
                    block = Blocks.allocate(workload, allocator, base);
                    for (int w = 0; w < WRITES; w++) {
                        Memory.putLongOpaque(block, base + ((long) w << Blocks.SIZE_BITS));
                    }
                } else {
                    final long lastTag = Blocks.tag(serial - 1, BYTE_SIZE);
                    Blocks.checkAndFree(workload, allocator, block, lastTag, "after " + WRITES + " writes");
                    block = 0;
                }
            }
        }

        @Override
        public void finish() {
            if (block != 0) {
                Blocks.checkAndFree(FalseSharingWorkload.this, allocator, block, Blocks.tag(serial - 1, BYTE_SIZE), "at the end");
                block = 0;
            }
        }
    }
}
