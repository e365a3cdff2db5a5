package org.smalloc4j.tools.bench;

import org.smalloc4j.NativeAllocator;

/**
 * The simplest workload: allocate a block of one size, write one byte into it, free it at once.
 * One operation is one such pair. It measures an allocator's fastest path (on Smalloc, a pop and a
 * push on the same slab; on glibc, its per-thread cache).
 */
public final class AllocFreePairs implements Workload {

    /** Alignment of every block: a {@code long}'s, what Java code usually asks for. */
    static final long BYTE_ALIGNMENT = 8;

    private final long byteSize;

    /** @param byteSize the size of every block, at least 1 */
    public AllocFreePairs(long byteSize) {
        if (byteSize < 1) {
            throw new IllegalArgumentException("pairs: byteSize " + byteSize + " is below 1");
        }
        this.byteSize = byteSize;
    }

    @Override
    public String name() {
        return "pairs";
    }

    @Override
    public String description() {
        return "alloc, write a byte, free; one size per row (--sizes); op = the pair";
    }

    @Override
    public String sizeLabel() {
        return Long.toString(byteSize);
    }

    @Override
    public Workload.Worker newWorker(NativeAllocator allocator, long seed) {
        return new Worker(allocator);
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;

        Worker(NativeAllocator allocator) {
            this.allocator = allocator;
        }

        @Override
        public void run(long ops) {
            final NativeAllocator allocator = this.allocator;
            final long byteSize = AllocFreePairs.this.byteSize;
            for (long i = 0; i < ops; i++) {
                long address = allocator.alloc(byteSize, BYTE_ALIGNMENT);
                if (address == 0) {
                    throw BenchFailure.exhausted(AllocFreePairs.this, allocator, byteSize);
                }
                Memory.putByte(address, (byte) i); // touch the block, so that its memory is real
                allocator.dealloc(address, byteSize, BYTE_ALIGNMENT);
            }
        }

        @Override
        public void finish() {
            // every block was freed in run
        }
    }
}
