package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

/**
 * {@code free-hotspot}: thread 0 alone allocates {@value #BYTE_SIZE}-byte blocks; every other thread
 * frees them (through one queue, see {@link HandoffWorkload}). So all frees go back to the one slab
 * (on Smalloc) or arena that thread 0 allocates from, and the freeing threads contend on its free
 * list. One operation is one alloc or one free.
 */
public final class FreeHotspotWorkload extends HandoffWorkload {

    /** The one size: a small object. */
    static final int BYTE_SIZE = 64;

    @Override
    public String name() {
        return "free-hotspot";
    }

    @Override
    public String description() {
        return "thread 0 allocates 64 B blocks, all others free them: one slab's free list";
    }

    @Override
    public String sizeLabel() {
        return Integer.toString(BYTE_SIZE);
    }

    @Override
    boolean producer(int threadIndex, int threads) {
        return threadIndex == 0;
    }

    @Override
    int drawSize(SplittableRandom random) {
        return BYTE_SIZE;
    }
}
