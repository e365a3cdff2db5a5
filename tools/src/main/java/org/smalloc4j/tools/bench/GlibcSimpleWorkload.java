package org.smalloc4j.tools.bench;

/**
 * {@code glibc-simple}: after glibc's bench-malloc-simple, one thread only (larger {@code --threads}
 * are skipped): batches of 100 random small blocks allocated, then freed; see
 * {@link GlibcLoopWorkload}. One operation is one alloc or one free.
 */
public final class GlibcSimpleWorkload extends GlibcLoopWorkload {

    @Override
    public String name() {
        return "glibc-simple";
    }

    @Override
    public String description() {
        return "one thread: alloc 100 random 8-512 B blocks, free them, repeat";
    }

    @Override
    public int maxThreads() {
        return 1;
    }
}
