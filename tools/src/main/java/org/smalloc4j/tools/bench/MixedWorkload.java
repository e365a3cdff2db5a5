package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

import org.smalloc4j.NativeAllocator;

/**
 * A fixed-seed mix of allocations, frees and reallocations over a window of live blocks, each block
 * written when it is made and checked before it is freed.
 *
 * <p>Each thread keeps {@code slots} slots. An operation picks a slot from a precomputed plan: an
 * empty slot gets a new block; a live one is reallocated (one time in five) or checked and freed. So
 * about half the slots are live at any time. Sizes are mostly small, sometimes medium, rarely large
 * (see the constants). Every block carries a tag in its first word and the tag's complement in its
 * last word; a realloc must keep both (as far as the new size reaches), a free finds them intact, or
 * the run fails with {@link BenchFailure}. One operation is one alloc, free or realloc, check and
 * pattern included: the same work for every allocator.
 *
 * <p>The plan (slot, size, realloc-or-free) is drawn once per thread from the seed and replayed in a
 * loop, so no random numbers are drawn while timing.
 */
public final class MixedWorkload implements Workload {

    // chosen
    /** Sizes 8 .. 128 bytes, most of the blocks: small objects, headers, short strings. */
    static final int SMALL_MAX = 128;
    /** Sizes 129 .. 4096 bytes, 14% of the blocks: buffers. */
    static final int MEDIUM_MAX = 4096;
    static final int MEDIUM_PERCENT = 14;
    /** Sizes 4 KiB .. 256 KiB, 1% of the blocks: the rare large one. */
    static final int LARGE_MAX = 256 * 1024;
    static final int LARGE_PERCENT = 1;
    /** The smallest block: room for the tag word. */
    static final int MIN_SIZE = 8;
    /** A live slot is reallocated this often (percent), freed otherwise. */
    static final int REALLOC_PERCENT = 20;
    /** Operations in a plan before it repeats; a power of two. */
    static final int PLAN_LENGTH = 1 << 16;
    /** Alignment of every block: a {@code long}'s. */
    static final long BYTE_ALIGNMENT = 8;

    private final int slots;

    /** @param slots live-block window per thread, at least 1 */
    public MixedWorkload(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("mixed: slots " + slots + " is below 1");
        }
        this.slots = slots;
    }

    @Override
    public String name() {
        return "mixed";
    }

    @Override
    public String description() {
        return "alloc/free/realloc over --slots live blocks, smalloc's size mix";
    }

    @Override
    public String sizeLabel() {
        return MIN_SIZE + "-" + LARGE_MAX / 1024 + "K";
    }

    @Override
    public Workload.Worker newWorker(NativeAllocator allocator, long seed) {
        return new Worker(allocator, seed);
    }

    /** A block size drawn from the mix. */
    static int drawSize(SplittableRandom random) {
        int percent = random.nextInt(100);
        if (percent < LARGE_PERCENT) {
            return random.nextInt(MEDIUM_MAX + 1, LARGE_MAX + 1);
        }
        if (percent < LARGE_PERCENT + MEDIUM_PERCENT) {
            return random.nextInt(SMALL_MAX + 1, MEDIUM_MAX + 1);
        }
        return random.nextInt(MIN_SIZE, SMALL_MAX + 1);
    }

    private final class Worker implements Workload.Worker {
        private final NativeAllocator allocator;
        // the plan
        private final int[] planSlot = new int[PLAN_LENGTH];
        private final int[] planSize = new int[PLAN_LENGTH];
        private final boolean[] planRealloc = new boolean[PLAN_LENGTH];
        // the live blocks, by slot; address 0 = empty
        private final long[] address;
        private final long[] byteSize;
        private final long[] tag;
        private int step;
        private long nextTag;

        Worker(NativeAllocator allocator, long seed) {
            this.allocator = allocator;
            this.address = new long[slots];
            this.byteSize = new long[slots];
            this.tag = new long[slots];
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < PLAN_LENGTH; i++) {
                planSlot[i] = random.nextInt(slots);
                planSize[i] = drawSize(random);
                planRealloc[i] = random.nextInt(100) < REALLOC_PERCENT;
            }
            this.nextTag = random.nextLong();
        }

        @Override
        public void run(long ops) {
            for (long i = 0; i < ops; i++) {
                final int s = step;
                step = (s + 1) & (PLAN_LENGTH - 1);
                final int slot = planSlot[s];
                if (address[slot] == 0) {
                    allocate(slot, planSize[s]);
                } else if (planRealloc[s]) {
                    reallocate(slot, planSize[s]);
                } else {
                    free(slot);
                }
            }
        }

        private void allocate(int slot, long size) {
            long block = allocator.alloc(size, BYTE_ALIGNMENT);
            if (block == 0) {
                throw BenchFailure.exhausted(MixedWorkload.this, allocator, size);
            }
            long blockTag = nextTag++;
            address[slot] = block;
            byteSize[slot] = size;
            tag[slot] = blockTag;
            Memory.putLong(block, blockTag);
            if (size >= 2 * Long.BYTES) {
                Memory.putLong(block + size - Long.BYTES, ~blockTag);
            }
        }

        private void reallocate(int slot, long newSize) {
            final long oldSize = byteSize[slot];
            final long blockTag = tag[slot];
            check(slot, "before realloc");
            long moved = allocator.realloc(address[slot], oldSize, BYTE_ALIGNMENT, newSize);
            if (moved == 0) {
                throw BenchFailure.exhausted(MixedWorkload.this, allocator, newSize);
            }
            address[slot] = moved;
            byteSize[slot] = newSize;
            // both sizes are at least 8: the first word is always kept
            expect(moved, 0, blockTag, newSize, "after realloc from " + oldSize + " bytes");
            if (newSize >= oldSize && oldSize >= 2 * Long.BYTES) {
                expect(moved, oldSize - Long.BYTES, ~blockTag, newSize, "after realloc from " + oldSize + " bytes");
            }
            if (newSize >= 2 * Long.BYTES) {
                Memory.putLong(moved + newSize - Long.BYTES, ~blockTag);
            }
        }

        private void free(int slot) {
            check(slot, "before free");
            allocator.dealloc(address[slot], byteSize[slot], BYTE_ALIGNMENT);
            address[slot] = 0;
        }

        private void check(int slot, String when) {
            final long block = address[slot];
            final long size = byteSize[slot];
            expect(block, 0, tag[slot], size, when);
            if (size >= 2 * Long.BYTES) {
                expect(block, size - Long.BYTES, ~tag[slot], size, when);
            }
        }

        private void expect(long block, long offset, long expected, long size, String when) {
            long found = Memory.getLong(block + offset);
            if (found != expected) {
                throw new BenchFailure(String.format("mixed: allocator '%s': block 0x%x of %d bytes %s: word at"
                        + " offset %d is 0x%x, expected 0x%x (the block was damaged or handed out twice)",
                        allocator.name(), block, size, when, offset, found, expected));
            }
        }

        @Override
        public void finish() {
            for (int slot = 0; slot < slots; slot++) {
                if (address[slot] != 0) {
                    free(slot);
                }
            }
        }
    }
}
