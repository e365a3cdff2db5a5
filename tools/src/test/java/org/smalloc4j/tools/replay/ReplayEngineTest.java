package org.smalloc4j.tools.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.smalloc4j.BumpArena;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.SystemAllocator;
import org.smalloc4j.TrackingAllocator;

/**
 * Replays of traces written in the test by a {@link TrackingAllocator} on a builder heap: the replay
 * reaches the trace's peak live bytes exactly on Smalloc and on libc, and catches an allocator that
 * damages blocks or fails.
 */
class ReplayEngineTest {

    @TempDir
    Path dir;

    /**
     * Records a fixed sequence with every kind of operation: sizes 0 to 1 MiB, alignments 1 to 4096,
     * zeroed blocks, reallocs that grow, shrink and move, and two blocks never freed. Its peak is
     * {@link #HAND_BUILT_PEAK} bytes, its end {@link #HAND_BUILT_END}.
     */
    private Path handBuiltTrace() {
        Path file = dir.resolve("hand.trace");
        try (Smalloc heap = Smalloc.builder().slabsPerClass(2).largestSlot(1 << 22).build()) {
            TrackingAllocator tracking = TrackingAllocator.builder(heap).traceTo(file).build();
            long a = tracking.alloc(100, 8);                  // live 100
            long b = tracking.allocZeroed(5000, 64);          // 5100
            long c = tracking.alloc(0, 1);                    // 5100
            long d = tracking.alloc(3, 1);                    // 5103
            a = tracking.realloc(a, 100, 8, 70_000);          // 75003
            long e = tracking.alloc(1 << 20, 4096);           // 1123579: the peak
            tracking.dealloc(e, 1 << 20, 4096);               // 75003
            b = tracking.realloc(b, 5000, 64, 10);            // 70013
            tracking.dealloc(a, 70_000, 8);                   // 13
            long f = tracking.allocZeroed(300, 16);           // 313
            tracking.dealloc(d, 3, 1);                        // 310
            tracking.dealloc(f, 300, 16);                     // 10
            tracking.dealloc(c, 0, 1);                        // 10
            long g = tracking.alloc(24, 8);                   // 34: b and g stay live
            assertEquals(HAND_BUILT_PEAK, tracking.peakBytes(), "the tracker counts the peak this test expects");
            assertEquals(HAND_BUILT_END, tracking.liveBytes());
            tracking.close();
            heap.dealloc(b, 10, 64);
            heap.dealloc(g, 24, 8);
        }
        return file;
    }

    private static final long HAND_BUILT_PEAK = 100 + 70_000 - 100 + 5000 + 3 + (1 << 20);
    private static final long HAND_BUILT_END = 34;

    @Test
    void aHandBuiltTraceIsCountedAsTheTrackerCounted() throws IOException {
        ReplayTrace trace = ReplayTrace.load(handBuiltTrace(), false);
        TraceSummary summary = trace.summary();
        assertEquals(14, summary.operations());
        assertEquals(7, summary.blocks());
        assertEquals(1, summary.threads());
        assertEquals(HAND_BUILT_PEAK, summary.peakLiveBytes());
        assertEquals(6, summary.peakLiveOp(), "the peak is reached by the sixth operation");
        assertEquals(HAND_BUILT_END, summary.endLiveBytes());
        assertTrue(summary.complete());
    }

    @Test
    void replayOnSmallocReachesTheTracesPeakExactly() throws IOException {
        assertFaithful(Smalloc.global(), "smalloc");
    }

    @Test
    void replayOnSystemReachesTheTracesPeakExactly() throws IOException {
        assertFaithful(new SystemAllocator(), "system");
    }

    private void assertFaithful(NativeAllocator allocator, String name) throws IOException {
        ReplayTrace trace = ReplayTrace.load(handBuiltTrace(), false);
        ReplayEngine engine = new ReplayEngine(trace);
        AllocatorReplay result = engine.replay(name, allocator, new ReplaySettings(1, 2, 4, false));

        assertEquals(HAND_BUILT_PEAK, result.peakLiveBytes());
        assertEquals(HAND_BUILT_END, result.endLiveBytes());
        assertEquals(0, engine.liveBytes(), "every pass frees what the trace left live");
        assertEquals(14, result.operations());
        assertEquals(2, result.passNanos().size());
        assertTrue(result.nsPerOp() > 0);

        List<Long> ops = result.series().stream().map(Sample::op).toList();
        assertEquals(List.of(0L, 4L, 6L, 8L, 12L, 14L), ops, "every 4 operations, the peak at 6, and the end");
        assertEquals(HAND_BUILT_PEAK, result.series().stream().mapToLong(Sample::liveBytes).max().orElseThrow());
        assertEquals(HAND_BUILT_END, result.series().getLast().liveBytes());
        assertTrue(result.rssAtStartBytes() > 0, "VmRSS is read on Linux");
        assertTrue(result.rssGrowthAtPeakLiveBytes() >= 0, "the peak is sampled: " + result.rssGrowthAtPeakLiveBytes());
        assertNotNull(result.fragmentationAtPeak());
        assertNotNull(result.fragmentationAtEnd(), "34 bytes are live at the end");

        assertTrue(result.usableSizeKnown(), name + " can tell usable sizes");
        long blocks = result.waste().stream().mapToLong(SizeClassWaste::blocks).sum();
        assertEquals(9, blocks, "seven allocations and two reallocs");
        for (SizeClassWaste waste : result.waste()) {
            assertTrue(waste.usableBytes() >= waste.requestedBytes(), waste.toString());
        }
        long requested = result.waste().stream().mapToLong(SizeClassWaste::requestedBytes).sum();
        assertEquals(100 + 5000 + 0 + 3 + 70_000 + (1 << 20) + 10 + 300 + 24, requested);
    }

    @Test
    void atPeakLiveRunsOnceWhileThePeaksBlocksAreLive() throws IOException {
        ReplayTrace trace = ReplayTrace.load(handBuiltTrace(), false);
        ReplayEngine engine = new ReplayEngine(trace);
        try (Smalloc heap = Smalloc.builder().slabsPerClass(2).largestSlot(1 << 22).build()) {
            List<SmallocStats> snapshots = new ArrayList<>();
            List<Long> liveThen = new ArrayList<>();
            engine.replay("builder heap", heap, new ReplaySettings(1, 2, 4, false), () -> {
                snapshots.add(heap.stats());
                liveThen.add(engine.liveBytes());
            });
            assertEquals(List.of(HAND_BUILT_PEAK), liveThen, "once, at the peak; not in the warm-up or timed passes");
            assertEquals(5, snapshots.getFirst().slotsInUse(), "a, b, c, d and the 1 MiB block e are live at the peak");
            assertTrue(snapshots.getFirst().bytesInUse() >= HAND_BUILT_PEAK);
        }
    }

    @Test
    void atPeakLiveRunsOnTheRecordersStandInWhenThreadsAreAsRecorded() throws IOException, InterruptedException {
        ReplayTrace trace = ReplayTrace.load(twoThreadTrace(), false);
        ReplayEngine engine = new ReplayEngine(trace);
        List<Long> liveThen = new ArrayList<>();
        engine.replay("system", new SystemAllocator(), new ReplaySettings(0, 1, 100, true),
                () -> liveThen.add(engine.liveBytes()));
        assertEquals(List.of(twoThreadPeak), liveThen);
    }

    /** A trace of two threads allocating and freeing at once; {@link #twoThreadPeak} is its tracker's peak. */
    private Path twoThreadTrace() throws InterruptedException {
        Path file = dir.resolve("threads.trace");
        try (Smalloc heap = Smalloc.builder().slabsPerClass(4).largestSlot(1 << 20).build()) {
            TrackingAllocator tracking = TrackingAllocator.builder(heap).traceTo(file).build();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int seed = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    long[] live = new long[64];
                    long[] sizes = new long[64];
                    for (int i = 0; i < 5000; i++) {
                        int slot = (i * 7 + seed) % live.length;
                        if (live[slot] != 0) {
                            tracking.dealloc(live[slot], sizes[slot], 8);
                            live[slot] = 0;
                        } else {
                            sizes[slot] = 16 + (i % 13) * 40 + seed;
                            live[slot] = tracking.alloc(sizes[slot], 8);
                        }
                    }
                    for (int slot = 0; slot < live.length; slot++) {
                        tracking.dealloc(live[slot], sizes[slot], 8);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            twoThreadPeak = tracking.peakBytes();
            tracking.close();
        }
        return file;
    }

    private long twoThreadPeak;

    @Test
    void aTraceOfTwoThreadsReplaysToItsPeakOnOneThread() throws IOException, InterruptedException {
        ReplayTrace trace = ReplayTrace.load(twoThreadTrace(), false);
        assertEquals(2, trace.summary().threads());
        assertEquals(twoThreadPeak, trace.peakLiveBytes());
        AllocatorReplay result = new ReplayEngine(trace).replay("system", new SystemAllocator(),
                new ReplaySettings(0, 1, 100, false));
        assertEquals(twoThreadPeak, result.peakLiveBytes());
    }

    @Test
    void threadsAsRecordedRunEachOperationOnItsRecordersStandInInTraceOrder() throws IOException, InterruptedException {
        ReplayTrace trace = ReplayTrace.load(twoThreadTrace(), false);
        ThreadLoggingAllocator logging = new ThreadLoggingAllocator();
        AllocatorReplay result = new ReplayEngine(trace).replay("logging", logging, new ReplaySettings(0, 1, 100, true));
        assertEquals(twoThreadPeak, result.peakLiveBytes());

        List<String> expected = new ArrayList<>();
        for (int i = 0; i < trace.operations(); i++) {
            expected.add("replay-" + trace.thread(i));
        }
        assertEquals(expected, logging.threadNames.subList(0, trace.operations()), "the measured pass");
        assertEquals(expected, logging.threadNames.subList(trace.operations(), 2 * trace.operations()), "the timed pass");

        AllocatorReplay onSmalloc = new ReplayEngine(trace).replay("smalloc", Smalloc.global(),
                new ReplaySettings(1, 1, 100, true));
        assertEquals(twoThreadPeak, onSmalloc.peakLiveBytes());
    }

    @Test
    void threadsAsRecordedStopAllThreadsOnAFailure() throws IOException, InterruptedException {
        ReplayTrace trace = ReplayTrace.load(twoThreadTrace(), false);
        try (SameAddressAllocator broken = new SameAddressAllocator()) {
            ReplayFailure failure = assertThrows(ReplayFailure.class,
                    () -> new ReplayEngine(trace).replay("same", broken, new ReplaySettings(0, 1, 100, true)));
            assertTrue(failure.getMessage().contains("handed out twice"), failure.getMessage());
        }
    }

    @Test
    void anAllocatorThatHandsABlockOutTwiceIsCaught() throws IOException {
        ReplayTrace trace = ReplayTrace.load(handBuiltTrace(), false);
        try (SameAddressAllocator broken = new SameAddressAllocator()) {
            ReplayFailure failure = assertThrows(ReplayFailure.class,
                    () -> new ReplayEngine(trace).replay("same", broken, new ReplaySettings(0, 1, 4, false)));
            assertTrue(failure.getMessage().contains("hand.trace on 'same'"), failure.getMessage());
            assertTrue(failure.getMessage().contains("handed out twice"), failure.getMessage());
        }
    }

    @Test
    void anAllocatorThatFailsStopsTheReplayNamingTheOperation() throws IOException {
        ReplayTrace trace = ReplayTrace.load(handBuiltTrace(), false);
        try (Smalloc small = Smalloc.builder().slabsPerClass(1).largestSlot(1 << 16).build()) {
            ReplayFailure failure = assertThrows(ReplayFailure.class,
                    () -> new ReplayEngine(trace).replay("small", small, new ReplaySettings(0, 1, 4, false)));
            // 70,000 bytes do not fit a heap whose largest slot is 64 KiB
            assertTrue(failure.getMessage().contains("hand.trace on 'small': operation 5 of 14 (realloc of block 0"
                    + " to 70000 bytes)"), failure.getMessage());
            assertTrue(failure.getMessage().contains("returned 0"), failure.getMessage());
        }
    }

    @Test
    void allocatorsWithoutAUsableSizeSayNotKnown() throws IOException {
        ReplayTrace trace = ReplayTrace.load(handBuiltTrace(), false);
        try (BumpArena arena = BumpArena.of(new SystemAllocator())) {
            AllocatorReplay result = new ReplayEngine(trace).replay("bump", arena, new ReplaySettings(0, 1, 4, false));
            assertFalse(result.usableSizeKnown());
            assertTrue(result.waste().isEmpty());
            assertEquals(-1, result.totalWasteBytes());
            assertEquals(HAND_BUILT_PEAK, result.peakLiveBytes());
        }
    }

    @Test
    void aTrackerTellsItsInnerAllocatorsUsableSizes() throws IOException {
        ReplayTrace trace = ReplayTrace.load(handBuiltTrace(), false);
        AllocatorReplay result = new ReplayEngine(trace).replay("tracking:system",
                TrackingAllocator.of(new SystemAllocator()), new ReplaySettings(0, 1, 4, false));
        assertTrue(result.usableSizeKnown());
        assertTrue(result.totalWasteBytes() >= 0);
        assertEquals(HAND_BUILT_PEAK, result.peakLiveBytes());
    }

    @Test
    void badSettingsAreRejected() throws IOException {
        ReplayEngine engine = new ReplayEngine(ReplayTrace.load(handBuiltTrace(), false));
        SystemAllocator system = new SystemAllocator();
        assertThrows(IllegalArgumentException.class, () -> engine.replay("system", system, new ReplaySettings(0, 0, 4, false)));
        assertThrows(IllegalArgumentException.class, () -> engine.replay("system", system, new ReplaySettings(-1, 1, 4, false)));
        IllegalArgumentException every = assertThrows(IllegalArgumentException.class,
                () -> engine.replay("system", system, new ReplaySettings(0, 1, 0, false)));
        assertTrue(every.getMessage().contains("sample every 0"), every.getMessage());
    }

    @Test
    void fragmentationIsUnknownWhenNothingIsLive() {
        AllocatorReplay empty = new AllocatorReplay("x", 0, List.of(1L), 1, 0, 0, 0, 0, 0, 0, 0, null, null,
                List.of(new Sample(0, 0, 0)), false, List.of());
        assertNull(empty.fragmentationAtEnd());
    }

    /** libc, logging the name of the thread of every call. */
    private static final class ThreadLoggingAllocator implements NativeAllocator {
        private final SystemAllocator system = new SystemAllocator();
        final List<String> threadNames = Collections.synchronizedList(new ArrayList<>());

        private void log() {
            threadNames.add(Thread.currentThread().getName());
        }

        @Override
        public long alloc(long byteSize, long byteAlignment) {
            log();
            return system.alloc(byteSize, byteAlignment);
        }

        @Override
        public long allocZeroed(long byteSize, long byteAlignment) {
            log();
            return system.allocZeroed(byteSize, byteAlignment);
        }

        @Override
        public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
            log();
            return system.realloc(address, oldSize, byteAlignment, newSize);
        }

        @Override
        public void dealloc(long address, long byteSize, long byteAlignment) {
            log();
            system.dealloc(address, byteSize, byteAlignment);
        }

        @Override
        public String name() {
            return "logging";
        }
    }

    /** Hands every block of up to 4 KiB out at the same address: the second block overwrites the first. */
    private static final class SameAddressAllocator implements NativeAllocator {
        private final SystemAllocator system = new SystemAllocator();
        private final long buffer = system.alloc(4 << 20, 4096);

        @Override
        public long alloc(long byteSize, long byteAlignment) {
            return byteSize <= 4096 ? buffer : buffer + (1 << 20);
        }

        @Override
        public void dealloc(long address, long byteSize, long byteAlignment) {
        }

        @Override
        public String name() {
            return "same";
        }

        @Override
        public void close() {
            system.dealloc(buffer, 4 << 20, 4096);
        }
    }
}
