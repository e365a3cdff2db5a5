package org.smalloc4j.tools.bench;

/**
 * {@code cache-thrash}: Hoard's active false-sharing test; see {@link FalseSharingWorkload}. Each
 * thread allocates 8-byte objects itself, writes each {@value FalseSharingWorkload#WRITES} times and
 * frees it. One operation is one alloc (with its writes) or one free.
 */
public final class CacheThrashWorkload extends FalseSharingWorkload {

    @Override
    public String name() {
        return "cache-thrash";
    }

    @Override
    public String description() {
        return "each thread allocates 8 B objects, writes each 256x, frees it";
    }

    @Override
    boolean scratch() {
        return false;
    }
}
