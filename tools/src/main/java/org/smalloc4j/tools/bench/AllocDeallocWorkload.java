package org.smalloc4j.tools.bench;

/**
 * {@code ad}: allocate and deallocate: a ring of 64 live blocks per thread, free the oldest, allocate anew; no writes; op = alloc or free. See {@link RingWorkload} for the step.
 */
public final class AllocDeallocWorkload extends RingWorkload {

    @Override
    public String name() {
        return "ad";
    }

    @Override
    public String description() {
        return "ring of 64 live blocks: free the oldest, allocate anew; no writes";
    }

    @Override
    boolean reallocates() {
        return false;
    }

    @Override
    boolean writes() {
        return false;
    }
}
