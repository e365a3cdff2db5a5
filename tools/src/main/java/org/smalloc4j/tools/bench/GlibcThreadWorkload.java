package org.smalloc4j.tools.bench;

/**
 * {@code glibc-thread}: after glibc's bench-malloc-thread, the {@code glibc-simple} loop on every
 * thread at once; see {@link GlibcLoopWorkload}. One operation is one alloc or one free.
 */
public final class GlibcThreadWorkload extends GlibcLoopWorkload {

    @Override
    public String name() {
        return "glibc-thread";
    }

    @Override
    public String description() {
        return "the glibc-simple loop on every thread (--threads) at once";
    }
}
