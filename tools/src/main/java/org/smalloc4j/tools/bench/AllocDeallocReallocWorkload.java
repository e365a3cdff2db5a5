package org.smalloc4j.tools.bench;

/**
 * {@code adr}: as ad, plus a realloc of a random ring entry to a new size per step; no writes; op = alloc, free or realloc. See {@link RingWorkload} for the step.
 */
public final class AllocDeallocReallocWorkload extends RingWorkload {

    @Override
    public String name() {
        return "adr";
    }

    @Override
    public String description() {
        return "as ad, plus a realloc of a random ring entry per step; no writes";
    }

    @Override
    boolean reallocates() {
        return true;
    }

    @Override
    boolean writes() {
        return false;
    }
}
