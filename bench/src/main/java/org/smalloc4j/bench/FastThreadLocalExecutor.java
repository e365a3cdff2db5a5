package org.smalloc4j.bench;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.util.concurrent.FastThreadLocalThread;

/**
 * JMH's worker threads as Netty's own threads: {@link FastThreadLocalThread}s. Netty 4.2 recycles its
 * buffer objects and keeps its pooled allocator's thread caches only on such threads (on any other
 * thread every {@code directBuffer} makes a new buffer object, 144 B of Java heap), so a benchmark of
 * Netty's allocators on JMH's ordinary threads would measure a path that a Netty event loop never
 * takes. A JMH fork uses it with
 * {@code -Djmh.executor=CUSTOM -Djmh.executor.class=org.smalloc4j.bench.FastThreadLocalExecutor}
 * (JMH calls the {@code (int, String)} constructor).
 */
public final class FastThreadLocalExecutor extends ThreadPoolExecutor {

    /**
     * A fixed pool of {@code threads} daemon threads named {@code prefix-1}, {@code prefix-2}, ….
     *
     * @throws IllegalArgumentException if {@code threads} is not positive
     */
    public FastThreadLocalExecutor(int threads, String prefix) {
        super(threads, threads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), new NamedThreads(prefix));
    }

    /** Makes the pool's {@link FastThreadLocalThread}s. */
    private static final class NamedThreads implements java.util.concurrent.ThreadFactory {

        private final String prefix;
        private final AtomicInteger made = new AtomicInteger();

        NamedThreads(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public Thread newThread(Runnable task) {
            Thread thread = new FastThreadLocalThread(task, prefix + "-" + made.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
