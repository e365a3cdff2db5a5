package org.smalloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@link BaselineBenchmark} without JMH, on the kind of thread its forks use (Netty's own, from
 * {@link FastThreadLocalExecutor}), with the JVM flags its forks get (set for the tests in the pom).
 */
class BaselineBenchmarkTest {

    /** Runs {@code task} on a {@link FastThreadLocalExecutor} thread, as JMH's forks of this benchmark do. */
    private static <T> T onNettyThread(java.util.concurrent.Callable<T> task) throws Exception {
        ExecutorService executor = new FastThreadLocalExecutor(1, "test");
        try {
            Future<T> result = executor.submit(task);
            return result.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            executor.shutdownNow();
        }
    }

    private static BaselineBenchmark benchmark(String allocator, int size) {
        BaselineBenchmark benchmark = new BaselineBenchmark();
        benchmark.allocator = allocator;
        benchmark.size = size;
        benchmark.setUp();
        return benchmark;
    }

    @ParameterizedTest
    @ValueSource(strings = {"arena-confined", "direct-buffer", "netty-pooled", "netty-adaptive"})
    void everySourceAllocatesEverySize(String allocator) throws Exception {
        for (int size : new int[] {16, 256, 4096, 65536, 1 << 20}) {
            onNettyThread(() -> {
                BaselineBenchmark benchmark = benchmark(allocator, size);
                for (int i = 0; i < 100; i++) {
                    assertBlock(benchmark.ffmPair1T(), size);
                    assertBlock(benchmark.ffmPair2T(), size);
                }
                return null;
            });
        }
    }

    /** A segment or buffer of {@code size} bytes; Netty's released, a direct buffer holding the byte written. */
    private static void assertBlock(Object block, int size) {
        switch (block) {
            case MemorySegment segment -> assertEquals(size, segment.byteSize());
            case ByteBuffer buffer -> assertEquals(List.of(size, (byte) 1), List.of(buffer.capacity(), buffer.get(0)));
            case ByteBuf buffer -> assertEquals(List.of(size, 0), List.of(buffer.capacity(), buffer.refCnt()));
            default -> throw new AssertionError("not a block: " + block);
        }
    }

    @Test
    void nettyOnAnOrdinaryThreadFailsNamingTheExecutor() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> benchmark("netty-pooled", 16));
        assertTrue(e.getMessage().contains("-Djmh.executor.class=" + FastThreadLocalExecutor.class.getName()), e.getMessage());
    }

    @Test
    void theJdkSourcesRunOnAnyThread() {
        assertBlock(benchmark("arena-confined", 16).ffmPair1T(), 16);
        assertBlock(benchmark("direct-buffer", 16).ffmPair1T(), 16);
    }

    @Test
    void anUnknownSourceIsNamedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> benchmark("unpooled", 16));
        assertTrue(e.getMessage().contains("'unpooled'") && e.getMessage().contains("netty-adaptive"), e.getMessage());
    }

    @Test
    void theExecutorMakesNamedNettyThreads() throws Exception {
        String name = onNettyThread(() -> Thread.currentThread().getName()
                + (io.netty.util.concurrent.FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals() ? " netty" : ""));
        assertEquals("test-1 netty", name);
    }
}
