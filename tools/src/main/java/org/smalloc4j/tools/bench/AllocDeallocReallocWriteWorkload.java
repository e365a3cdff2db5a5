package org.smalloc4j.tools.bench;

/**
 * {@code adrww}: as adr with writes: blocks stamped, checked before free and realloc, read back after realloc; op = alloc, free or realloc. See {@link RingWorkload} for the step.
 */
public final class AllocDeallocReallocWriteWorkload extends RingWorkload {

    @Override
    public String name() {
        return "adrww";
    }

    @Override
    public String description() {
        return "as adr with writes, checked before free/realloc, read back after";
    }

    @Override
    boolean reallocates() {
        return true;
    }

    @Override
    boolean writes() {
        return true;
    }
}
