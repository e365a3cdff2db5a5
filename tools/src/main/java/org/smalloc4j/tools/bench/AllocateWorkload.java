package org.smalloc4j.tools.bench;

/**
 * {@code a}: allocate only. Each thread allocates blocks of smalloc's size mix and touches none of
 * them while timed; every {@value WindowWorkload#WINDOW} blocks it stamps, checks and frees them
 * outside the timing. One operation is one allocation.
 */
public final class AllocateWorkload extends WindowWorkload {

    @Override
    public String name() {
        return "a";
    }

    @Override
    public String description() {
        return "allocate only, smalloc's size mix; freed untimed every 4096";
    }

    @Override
    boolean writes() {
        return false;
    }
}
