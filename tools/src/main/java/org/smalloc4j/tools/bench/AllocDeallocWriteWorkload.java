package org.smalloc4j.tools.bench;

/**
 * {@code adww}: as ad, each new block written (first and last word) and checked before its free; op = alloc or free, writes included. See {@link RingWorkload} for the step.
 */
public final class AllocDeallocWriteWorkload extends RingWorkload {

    @Override
    public String name() {
        return "adww";
    }

    @Override
    public String description() {
        return "as ad, each block written (first, last word), checked before free";
    }

    @Override
    boolean reallocates() {
        return false;
    }

    @Override
    boolean writes() {
        return true;
    }
}
