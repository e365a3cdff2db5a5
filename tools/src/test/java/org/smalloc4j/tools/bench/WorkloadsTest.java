package org.smalloc4j.tools.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SystemAllocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every registered workload runs clean on real allocators, fails on a broken one, and replays per seed. */
class WorkloadsTest {

    private static final BenchSettings TINY = new BenchSettings(Duration.ZERO, Duration.ZERO, 2_000, 2, 7);

    /** Workloads that hold two or more blocks live at once on one thread, and write them. */
    private static final List<String> HOLDING_AND_WRITING = List.of("mixed", "a", "aww", "adww", "adrww", "hotspot",
            "free-hotspot", "xmalloc", "larson", "glibc-simple", "glibc-thread", "mstress");

    private static Workload workload(String name) {
        return Workloads.create(List.of(name), List.of(16L), 100).getFirst();
    }

    /** Hands out one and the same block for every request: every live block overwrites the others. */
    private static final class OneBlockAllocator implements NativeAllocator {
        private final SystemAllocator system = new SystemAllocator();
        private final long block = system.alloc(4 << 20, 64);

        @Override
        public long alloc(long byteSize, long byteAlignment) {
            return block;
        }

        @Override
        public void dealloc(long address, long byteSize, long byteAlignment) {
        }

        @Override
        public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
            return block;
        }

        @Override
        public String name() {
            return "one-block";
        }

        @Override
        public void close() {
            system.dealloc(block, 4 << 20, 64);
        }
    }

    /** Records every call (kind and size) before passing it on. */
    private static final class RecordingAllocator implements NativeAllocator {
        private final SystemAllocator system = new SystemAllocator();
        final List<String> calls = new ArrayList<>();

        @Override
        public long alloc(long byteSize, long byteAlignment) {
            calls.add("a" + byteSize);
            return system.alloc(byteSize, byteAlignment);
        }

        @Override
        public void dealloc(long address, long byteSize, long byteAlignment) {
            calls.add("d" + byteSize);
            system.dealloc(address, byteSize, byteAlignment);
        }

        @Override
        public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
            calls.add("r" + oldSize + ">" + newSize);
            return system.realloc(address, oldSize, byteAlignment, newSize);
        }

        @Override
        public String name() {
            return "recording";
        }
    }

    @Test
    void everyWorkloadRunsCleanOnSmallocAndSystem() {
        for (String name : Workloads.NAMES) {
            Workload workload = workload(name);
            for (NativeAllocator allocator : new NativeAllocator[] {Smalloc.global(), new SystemAllocator()}) {
                for (int threads = 1; threads <= Math.min(2, workload.maxThreads()); threads++) {
                    Measurement m = CaseRunner.measure(workload, allocator, threads, TINY);
                    assertEquals(2, m.roundNsPerOp().length, name);
                    assertTrue(m.nsPerOp() > 0 && Double.isFinite(m.nsPerOp()),
                            name + " on " + allocator.name() + " with " + threads + " threads: " + m.nsPerOp());
                }
            }
        }
    }

    @Test
    void aBlockHandedOutTwiceFailsEveryWritingWorkload() {
        for (String name : HOLDING_AND_WRITING) {
            try (OneBlockAllocator allocator = new OneBlockAllocator()) {
                BenchFailure failure = assertThrows(BenchFailure.class,
                        () -> CaseRunner.measure(workload(name), allocator, 1, TINY), name);
                assertTrue(failure.getMessage().contains("allocator 'one-block'"), failure.getMessage());
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameCallsOnOneThread() {
        for (String name : Workloads.NAMES) {
            RecordingAllocator first = new RecordingAllocator();
            RecordingAllocator second = new RecordingAllocator();
            CaseRunner.measure(workload(name), first, 1, TINY);
            CaseRunner.measure(workload(name), second, 1, TINY);
            assertTrue(first.calls.size() >= 2 * TINY.opsPerRound(), name + ": " + first.calls.size() + " calls");
            assertEquals(first.calls, second.calls, name);
        }
    }

    @Test
    void namesAreUniqueAndKnown() {
        assertEquals(Workloads.NAMES.size(), Workloads.NAMES.stream().distinct().count());
        assertEquals(Workloads.NAMES.size(), Workloads.helpLines().size());
        for (String name : List.of("a", "ad", "adr", "aww", "adww", "adrww", "hotspot", "free-hotspot", "larson",
                "xmalloc", "cache-scratch", "cache-thrash", "glibc-simple", "glibc-thread", "mstress")) {
            assertTrue(Workloads.NAMES.contains(name), name);
        }
    }

    @Test
    void theQueueKeepsOrderAndBounds() {
        AddressQueue queue = new AddressQueue(4);
        long[] taken = new long[2];
        assertTrue(!queue.poll(taken));
        for (int i = 1; i <= 4; i++) {
            assertTrue(queue.offer(i * 8, i));
        }
        assertTrue(!queue.offer(40, 5));
        for (int i = 1; i <= 4; i++) {
            assertTrue(queue.poll(taken));
            assertEquals(i * 8, taken[0]);
            assertEquals(i, taken[1]);
        }
        assertTrue(!queue.poll(taken));
    }
}
