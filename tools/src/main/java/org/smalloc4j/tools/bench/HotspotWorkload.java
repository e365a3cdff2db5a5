package org.smalloc4j.tools.bench;

import org.smalloc4j.NativeAllocator;

/**
 * {@code hotspot}: every thread allocates and frees blocks of one size ({@value #BYTE_SIZE} bytes),
 * so all threads work one size class at once; on Smalloc each thread has a slab of that class of its
 * own, on other allocators the threads may meet in one bin. Each thread keeps a ring of {@value #RING}
 * live blocks: free the oldest (checked), allocate a new one (stamped). One operation is one alloc
 * or one free. The sequence is the same for every seed: there is nothing to draw.
 */
public final class HotspotWorkload implements Workload {

    // chosen
    /** The one size: a small object, the commonest case. */
    static final int BYTE_SIZE = 64;
    /** Live blocks per thread; a power of two. */
    static final int RING = 8;

    @Override
    public String name() {
        return "hotspot";
    }

    @Override
    public String description() {
        return "all threads alloc and free one size (64 B) in a ring of 8 blocks each";
    }

    @Override
    public String sizeLabel() {
        return Integer.toString(BYTE_SIZE);
    }

    @Override
    public Workload.Worker newWorker(NativeAllocator allocator, long seed) {
        return new Worker(allocator, seed);
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        private final long[] address = new long[RING];
        private final long[] tag = new long[RING];
        private int oldest;
        private boolean freed;    // the oldest block was freed; the next op allocates its successor
        private long serial;

        Worker(NativeAllocator allocator, long seed) {
            this.allocator = allocator;
            this.serial = seed >>> Blocks.SIZE_BITS;
            for (int i = 0; i < RING; i++) {
                tag[i] = Blocks.tag(serial++, BYTE_SIZE);
                address[i] = Blocks.allocate(HotspotWorkload.this, allocator, tag[i]);
                Blocks.stamp(address[i], tag[i]);
            }
        }

        @Override
        public void run(long ops) {
            for (long i = 0; i < ops; i++) {
                final int slot = oldest;
                if (!freed) {
                    Blocks.checkAndFree(HotspotWorkload.this, allocator, address[slot], tag[slot], "before free");
                } else {
                    final long blockTag = Blocks.tag(serial++, BYTE_SIZE);
                    final long block = Blocks.allocate(HotspotWorkload.this, allocator, blockTag);
                    Blocks.stamp(block, blockTag);
                    address[slot] = block;
                    tag[slot] = blockTag;
                    oldest = (slot + 1) & (RING - 1);
                }
                freed = !freed;
            }
        }

        @Override
        public void finish() {
            for (int i = 0; i < RING; i++) {
                if (!(freed && i == oldest)) {
                    Blocks.checkAndFree(HotspotWorkload.this, allocator, address[i], tag[i], "at the end");
                }
            }
        }
    }
}
