package org.smalloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.smalloc4j.Smalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@link AllocFreeBenchmark} without JMH, as one of its forks would: setup, some operations of
 * every method on two thread states, teardown, for every allocator name at the smallest and largest
 * size. Fails if a benchmark does not allocate, leaves a block behind, or does not notice a leak.
 */
class AllocFreeBenchmarkTest {

    /** More than a bump arena's generation, so that every cadence resets at least once. */
    private static final int OPERATIONS = 3 * BlockCycle.ResetEvery.BLOCKS_PER_RESET + 1;

    static Stream<Arguments> allocatorsAndSizes() {
        return BenchAllocators.NAMES.stream().flatMap(name -> Stream.of(Arguments.of(name, 16L), Arguments.of(name, 1L << 20)));
    }

    private static AllocFreeBenchmark benchmark(String allocator, long size) {
        AllocFreeBenchmark benchmark = new AllocFreeBenchmark();
        benchmark.allocator = allocator;
        benchmark.size = size;
        benchmark.setUp();
        return benchmark;
    }

    private static AllocFreeBenchmark.ThreadCycle thread(AllocFreeBenchmark benchmark) {
        AllocFreeBenchmark.ThreadCycle thread = new AllocFreeBenchmark.ThreadCycle();
        thread.setUp(benchmark);
        return thread;
    }

    @ParameterizedTest(name = "{0} {1} B")
    @MethodSource("allocatorsAndSizes")
    void everyMethodAllocatesAndGivesEverythingBack(String allocator, long size) {
        AllocFreeBenchmark benchmark = benchmark(allocator, size);
        AllocFreeBenchmark.ThreadCycle first = thread(benchmark);
        AllocFreeBenchmark.ThreadCycle second = thread(benchmark);
        for (int i = 0; i < OPERATIONS; i++) {
            assertNotEquals(0, benchmark.pair1T(first));
            assertNotEquals(0, benchmark.pair2T(second));
            assertBlock(benchmark.ffmPair1T(first), size);
            assertBlock(benchmark.ffmPair2T(second), size);
        }
        first.tearDown();
        second.tearDown(); // the last one checks that nothing is left, and would throw
    }

    private static void assertBlock(MemorySegment segment, long size) {
        assertNotEquals(0, segment.address());
        assertEquals(size, segment.byteSize());
    }

    @ParameterizedTest
    @ValueSource(longs = {16, 4096, 65536, 1 << 20})
    void aBumpArenaServesEveryGenerationFromOneChunk(long size) {
        AllocFreeBenchmark benchmark = benchmark(BenchAllocators.BUMP, size);
        AllocFreeBenchmark.ThreadCycle thread = thread(benchmark);
        long first = benchmark.pair1T(thread);
        for (int generation = 0; generation < 3; generation++) {
            for (int i = generation == 0 ? 1 : 0; i < BlockCycle.ResetEvery.BLOCKS_PER_RESET; i++) {
                // after each reset the next generation starts the same chunk again
                assertEquals(first + i * size, benchmark.pair1T(thread), "block " + i + " of generation " + generation);
            }
        }
        thread.tearDown();
    }

    @ParameterizedTest
    @ValueSource(strings = {BenchAllocators.SMALLOC, BenchAllocators.BUMP, BenchAllocators.TRACKING, BenchAllocators.SMALLOC_HEAP})
    void aBlockLeftBehindFailsTheTeardown(String allocator) {
        AllocFreeBenchmark benchmark = benchmark(allocator, 16);
        AllocFreeBenchmark.ThreadCycle thread = thread(benchmark);
        long leaked = benchmark.heap().alloc(16, 8); // the global heap, a tracker over it, or a builder heap
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, thread::tearDown);
            assertTrue(e.getMessage().startsWith(allocator + ": ") && e.getMessage().contains("after the trial"), e.getMessage());
        } finally {
            if (BenchAllocators.onGlobalHeap(allocator)) {
                Smalloc.global().dealloc(leaked, 16, 8); // a tracker is closed by now: its inner heap is not
            }
        }
    }

    @Test
    void anUnknownAllocatorIsNamedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> benchmark("tcmalloc", 16));
        assertTrue(e.getMessage().contains("'tcmalloc'") && e.getMessage().contains("jemalloc"), e.getMessage());
    }
}
