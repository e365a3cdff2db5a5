package org.smalloc4j.tools.bench;

import java.util.SplittableRandom;

/**
 * {@code xmalloc}: after Lever and Boreham's xmalloc-test, producers allocate and consumers free.
 * Even-numbered threads produce, odd-numbered ones consume, through one bounded queue (see
 * {@link HandoffWorkload}); sizes are uniform in {@value #MIN_SIZE} .. {@value #MAX_SIZE} bytes.
 * One operation is one alloc or one free.
 */
public final class XmallocWorkload extends HandoffWorkload {

    static final int MIN_SIZE = Blocks.MIN_SIZE;
    /** Small objects, as in the original test. */
    static final int MAX_SIZE = 512;

    @Override
    public String name() {
        return "xmalloc";
    }

    @Override
    public String description() {
        return "half the threads allocate 8-512 B, the others free them (a queue)";
    }

    @Override
    public String sizeLabel() {
        return MIN_SIZE + "-" + MAX_SIZE;
    }

    @Override
    boolean producer(int threadIndex, int threads) {
        return threadIndex % 2 == 0;
    }

    @Override
    int drawSize(SplittableRandom random) {
        return random.nextInt(MIN_SIZE, MAX_SIZE + 1);
    }
}
