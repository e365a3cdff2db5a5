package org.smalloc4j.tools.bench;

/**
 * {@code cache-scratch}: Hoard's passive false-sharing test; see {@link FalseSharingWorkload}.
 * One operation is one alloc (with its {@value FalseSharingWorkload#WRITES} writes) or one free.
 */
public final class CacheScratchWorkload extends FalseSharingWorkload {

    @Override
    public String name() {
        return "cache-scratch";
    }

    @Override
    public String description() {
        return "threads free 8 B objects made by one thread, then alloc/write 256x/free";
    }

    @Override
    boolean scratch() {
        return true;
    }
}
