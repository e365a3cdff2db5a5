package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.smalloc4j.Patterns.assertNamesAddress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TrackingAllocator beyond the shared contract: exact counters and peak under many threads checked
 * against a model, the byte limit, rejected calls, the histogram, the leak report, and the trace
 * (written, read back, replayed). Random cases print their seed; rerun with {@code -Dsmalloc4j.seed=N}.
 */
class TrackingAllocatorTest {

    @TempDir
    Path dir;

    private Smalloc heap;

    @BeforeEach
    void createHeap() {
        heap = Smalloc.builder().name("tracked").build();
    }

    @AfterEach
    void closeHeap() {
        heap.close();
    }

    // ------------------------------------------------------------ a model of the figures

    /** Every figure of a tracker at one moment. */
    private record Figures(long live, long peak, long allocated, long freed, long allocations, long frees,
                           long reallocs, long failed, List<Long> histogram) {
        static Figures of(TrackingAllocator tracking) {
            List<Long> histogram = new ArrayList<>();
            for (long count : tracking.histogram()) {
                histogram.add(count);
            }
            return new Figures(tracking.liveBytes(), tracking.peakBytes(), tracking.allocatedBytes(),
                    tracking.freedBytes(), tracking.allocationCount(), tracking.freeCount(), tracking.reallocCount(),
                    tracking.failedCount(), histogram);
        }
    }

    /** What one thread did, counted the simple way. */
    private static final class Model {
        long allocations, frees, reallocs, failed, allocated, freed;
        final long[] histogram = new long[TrackingAllocator.SIZE_CLASSES];

        void allocation(long byteSize) {
            allocations++;
            allocated += byteSize;
            histogram[TrackingAllocator.sizeClass(byteSize)]++;
        }

        void free(long byteSize) {
            frees++;
            freed += byteSize;
        }

        void realloc(long oldSize, long newSize) {
            reallocs++;
            freed += oldSize;
            allocated += newSize;
            histogram[TrackingAllocator.sizeClass(newSize)]++;
        }

        void add(Model other) {
            allocations += other.allocations;
            frees += other.frees;
            reallocs += other.reallocs;
            failed += other.failed;
            allocated += other.allocated;
            freed += other.freed;
            for (int k = 0; k < histogram.length; k++) {
                histogram[k] += other.histogram[k];
            }
        }
    }

    private record Block(long address, long byteSize, long byteAlignment) {
    }

    private static long seed() {
        return Long.getLong("smalloc4j.seed", new SplittableRandom().nextLong());
    }

    private static String rerun(long seed) {
        return "seed " + seed + " (rerun with -Dsmalloc4j.seed=" + seed + ")";
    }

    private static long randomSize(SplittableRandom random) {
        int pick = random.nextInt(100);
        return pick < 80 ? random.nextLong(129) : pick < 98 ? random.nextLong(129, 8193) : random.nextLong(8193, 300_000);
    }

    /**
     * Random operations on one thread, tallied in {@code model}; leaves {@code keep} blocks live.
     * Every block holds a pattern checked before it goes back.
     */
    private static List<Block> randomOperations(NativeAllocator allocator, long seed, int operations, int keep,
                                                Model model) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Block> live = new ArrayList<>();
        for (int op = 0; op < operations; op++) {
            int pick = random.nextInt(100);
            if (pick < 35 || live.isEmpty()) {
                long byteSize = randomSize(random);
                long byteAlignment = 1L << random.nextInt(7);
                long address = random.nextBoolean() ? allocator.alloc(byteSize, byteAlignment)
                        : allocator.allocZeroed(byteSize, byteAlignment);
                assertNotEquals(0, address);
                Patterns.fill(address, Math.min(byteSize, 64), address);
                model.allocation(byteSize);
                live.add(new Block(address, byteSize, byteAlignment));
            } else if (pick < 70) {
                Block block = live.remove(random.nextInt(live.size()));
                Patterns.check(block.address(), Math.min(block.byteSize(), 64), block.address(), "before dealloc");
                allocator.dealloc(block.address(), block.byteSize(), block.byteAlignment());
                model.free(block.byteSize());
            } else if (pick < 90) {
                int index = random.nextInt(live.size());
                Block block = live.get(index);
                long newSize = randomSize(random);
                long moved = allocator.realloc(block.address(), block.byteSize(), block.byteAlignment(), newSize);
                assertNotEquals(0, moved);
                Patterns.check(moved, Math.min(Math.min(block.byteSize(), newSize), 64), block.address(), "after realloc");
                Patterns.fill(moved, Math.min(newSize, 64), moved);
                model.realloc(block.byteSize(), newSize);
                live.set(index, new Block(moved, newSize, block.byteAlignment()));
            } else if (pick < 95) {
                long byteSize = randomSize(random);
                long address = allocator.realloc(0, 0, 16, byteSize);
                assertNotEquals(0, address);
                Patterns.fill(address, Math.min(byteSize, 64), address);
                model.allocation(byteSize);
                live.add(new Block(address, byteSize, 16));
            } else if (pick < 98) {
                allocator.dealloc(0, 64, 8); // NULL: not counted
            } else {
                assertEquals(0, allocator.alloc(Long.MAX_VALUE - random.nextInt(4096), 8));
                model.failed++;
            }
        }
        while (live.size() > keep) {
            Block block = live.remove(live.size() - 1);
            allocator.dealloc(block.address(), block.byteSize(), block.byteAlignment());
            model.free(block.byteSize());
        }
        return live;
    }

    private static long liveBytes(List<Block> blocks) {
        return blocks.stream().mapToLong(Block::byteSize).sum();
    }

    private static void assertMatches(Model model, long liveBytes, TrackingAllocator tracking, String context) {
        assertEquals(model.allocations, tracking.allocationCount(), context + ": allocations");
        assertEquals(model.frees, tracking.freeCount(), context + ": frees");
        assertEquals(model.reallocs, tracking.reallocCount(), context + ": reallocs");
        assertEquals(model.failed, tracking.failedCount(), context + ": failed");
        assertEquals(model.allocated, tracking.allocatedBytes(), context + ": allocated bytes");
        assertEquals(model.freed, tracking.freedBytes(), context + ": freed bytes");
        assertEquals(liveBytes, tracking.liveBytes(), context + ": live bytes");
        assertEquals(tracking.allocatedBytes() - tracking.freedBytes(), tracking.liveBytes(), context);
        assertArrayEquals(model.histogram, tracking.histogram(), context + ": histogram");
    }

    /** Runs {@code threads} threads of random operations; returns the model and the blocks they left. */
    private static Model manyThreads(TrackingAllocator tracking, long seed, int threads, int operations,
                                     List<Block> leftLive) throws InterruptedException {
        Model total = new Model();
        List<Thread> workers = new ArrayList<>();
        List<Model> models = new ArrayList<>();
        List<List<Block>> lefts = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Model model = new Model();
            List<Block> left = new ArrayList<>();
            long threadSeed = seed + t;
            models.add(model);
            lefts.add(left);
            workers.add(Thread.ofPlatform().name("worker-" + t).start(() -> {
                try {
                    left.addAll(randomOperations(tracking, threadSeed, operations, 50, model));
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(rerun(seed), failures.get(0));
        }
        models.forEach(total::add);
        lefts.forEach(leftLive::addAll);
        return total;
    }

    // ------------------------------------------------------------ counters

    @Test
    void countersAreExactAfterManyThreads() throws InterruptedException {
        long seed = seed();
        TrackingAllocator tracking = TrackingAllocator.of(Smalloc.global());
        List<Block> left = new ArrayList<>();
        Model model = manyThreads(tracking, seed, 8, 100_000, left);
        assertMatches(model, liveBytes(left), tracking, rerun(seed));
        assertTrue(tracking.peakBytes() >= tracking.liveBytes());
        for (Block block : left) {
            tracking.dealloc(block.address(), block.byteSize(), block.byteAlignment());
        }
        assertEquals(0, tracking.liveBytes());
        assertEquals(tracking.allocationCount(), tracking.freeCount());
    }

    @Test
    void countersAreExactWhenThreadsFreeEachOthersBlocks() throws InterruptedException {
        long seed = seed();
        int threads = 8;
        int operations = 50_000;
        TrackingAllocator tracking = TrackingAllocator.of(Smalloc.global());
        ConcurrentLinkedQueue<Block> handedOver = new ConcurrentLinkedQueue<>();
        List<Model> models = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            Model model = new Model();
            models.add(model);
            SplittableRandom random = new SplittableRandom(seed + t);
            workers.add(Thread.ofPlatform().name("handover-" + t).start(() -> {
                try {
                    List<Block> mine = new ArrayList<>();
                    for (int op = 0; op < operations; op++) {
                        int pick = random.nextInt(100);
                        if (pick < 40 || mine.isEmpty()) {
                            long byteSize = random.nextInt(50) == 0 ? random.nextLong(100_000, 400_000)
                                    : randomSize(random);
                            long address = tracking.alloc(byteSize, 8);
                            assertNotEquals(0, address);
                            Patterns.fill(address, Math.min(byteSize, 64), address);
                            model.allocation(byteSize);
                            mine.add(new Block(address, byteSize, 8));
                        } else if (pick < 60) {
                            handedOver.add(mine.remove(random.nextInt(mine.size()))); // another thread frees it
                        } else if (pick < 80) {
                            Block block = handedOver.poll();
                            if (block == null) {
                                block = mine.remove(random.nextInt(mine.size()));
                            }
                            Patterns.check(block.address(), Math.min(block.byteSize(), 64), block.address(),
                                    "before a free on " + Thread.currentThread().getName());
                            tracking.dealloc(block.address(), block.byteSize(), 8);
                            model.free(block.byteSize());
                        } else {
                            int index = random.nextInt(mine.size());
                            Block block = mine.get(index);
                            long newSize = randomSize(random);
                            long moved = tracking.realloc(block.address(), block.byteSize(), 8, newSize);
                            assertNotEquals(0, moved);
                            Patterns.check(moved, Math.min(Math.min(block.byteSize(), newSize), 64), block.address(),
                                    "after realloc");
                            Patterns.fill(moved, Math.min(newSize, 64), moved);
                            model.realloc(block.byteSize(), newSize);
                            mine.set(index, new Block(moved, newSize, 8));
                        }
                    }
                    handedOver.addAll(mine); // left for the main thread to free
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(rerun(seed), failures.get(0));
        }
        Model total = new Model();
        models.forEach(total::add);
        assertMatches(total, liveBytes(List.copyOf(handedOver)), tracking, rerun(seed));
        long peakWhileRunning = tracking.peakBytes();
        Model main = new Model();
        for (Block block; (block = handedOver.poll()) != null; ) {
            Patterns.check(block.address(), Math.min(block.byteSize(), 64), block.address(), "left over");
            tracking.dealloc(block.address(), block.byteSize(), 8);
            main.free(block.byteSize());
        }
        total.add(main);
        assertMatches(total, 0, tracking, rerun(seed));
        assertEquals(peakWhileRunning, tracking.peakBytes(), "frees never raise the peak");
        assertTrue(tracking.counterCells() <= 1, () -> tracking.counterCells() + " cells after the workers ended");
    }

    @Test
    void tenThousandShortLivedThreadsAreCountedExactlyInBoundedCells() throws InterruptedException {
        TrackingAllocator tracking = TrackingAllocator.of(Smalloc.global());
        int maxCells = 0;
        for (int t = 0; t < 10_000; t++) {
            long byteSize = 1 + t % 5000;
            Thread.ofPlatform().start(() -> {
                long kept = tracking.alloc(byteSize, 8);
                long freed = tracking.allocZeroed(2 * byteSize, 16);
                Patterns.fill(kept, byteSize, byteSize);
                tracking.dealloc(freed, 2 * byteSize, 16);
                tracking.dealloc(kept, byteSize, 8);
                long leftLive = tracking.alloc(1, 1); // dies with its thread: counted as live
                Patterns.fill(leftLive, 1, 1);
            }).join();
            maxCells = Math.max(maxCells, tracking.counterCells());
        }
        assertTrue(maxCells <= 128, "cells of ended threads are folded: at most " + maxCells);
        long sizes = 0;
        long truePeak = 0;
        for (int t = 0; t < 10_000; t++) {
            long byteSize = 1 + t % 5000;
            sizes += byteSize;
            truePeak = Math.max(truePeak, t + 3 * byteSize); // t bytes left by the threads before
        }
        assertEquals(30_000, tracking.allocationCount());
        assertEquals(20_000, tracking.freeCount());
        assertEquals(3 * sizes + 10_000, tracking.allocatedBytes());
        assertEquals(3 * sizes, tracking.freedBytes());
        assertEquals(10_000, tracking.liveBytes());
        assertEquals(0, tracking.counterCells(), "reading the figures folded every ended thread's cell");
        long peak = tracking.peakBytes();
        long highest = truePeak;
        long bound = truePeak - maxCells; // each ended thread not yet folded held back its 1 byte
        assertTrue(peak <= highest && peak >= bound, () -> "peak " + peak + ", not in [" + bound + ", " + highest + "]");
        long last = tracking.alloc(20_000, 8); // one thread now, every cell folded: the peak is exact again
        assertEquals(30_000, tracking.peakBytes());
        tracking.dealloc(last, 20_000, 8);
    }

    @Test
    void recordingCountersAreExactAfterManyThreadsAndTheTraceReplaysThem() throws IOException, InterruptedException {
        long seed = seed();
        Path file = dir.resolve("threads.trace");
        TrackingAllocator tracking = TrackingAllocator.builder(heap).recordStacks(false).traceTo(file).build();
        List<Block> left = new ArrayList<>();
        Model model = manyThreads(tracking, seed, 4, 20_000, left);
        assertMatches(model, liveBytes(left), tracking, rerun(seed));
        assertEquals(left.size(), tracking.liveBlocks().size());
        Figures figures = Figures.of(tracking);
        tracking.close();

        Replay replay = Replay.of(file);
        assertTrue(replay.complete, "trace has its END record");
        assertEquals(figures.peak(), replay.peak, rerun(seed) + ": peak live bytes replayed");
        assertEquals(figures.live(), replay.live, rerun(seed) + ": live bytes replayed");
        assertEquals(figures.allocations(), replay.allocations);
        assertEquals(figures.frees(), replay.frees);
        assertEquals(figures.reallocs(), replay.reallocs);
        assertEquals(figures.failed(), replay.failed);
        assertEquals(List.of("worker-0", "worker-1", "worker-2", "worker-3"),
                replay.threadNames.values().stream().sorted().toList());
        for (Block block : left) {
            heap.dealloc(block.address(), block.byteSize(), block.byteAlignment());
        }
    }

    /**
     * Threads allocate, meet, free, meet, for some rounds: the highest live bytes are at a meeting.
     * Returns that figure; the tracker's peak is checked by the caller.
     */
    private static long allocateTogether(TrackingAllocator tracking, long seed, int threads, int rounds)
            throws InterruptedException {
        long[][] roundBytes = new long[threads][rounds];
        CyclicBarrier allAllocated = new CyclicBarrier(threads);
        CyclicBarrier allFreed = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        AtomicLong failures = new AtomicLong();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            workers.add(Thread.ofPlatform().start(() -> {
                SplittableRandom random = new SplittableRandom(seed + thread);
                try {
                    for (int round = 0; round < rounds; round++) {
                        List<Block> mine = new ArrayList<>();
                        int count = random.nextInt(1, 200);
                        for (int i = 0; i < count; i++) {
                            long byteSize = randomSize(random);
                            mine.add(new Block(tracking.alloc(byteSize, 8), byteSize, 8));
                            roundBytes[thread][round] += byteSize;
                        }
                        allAllocated.await(); // only allocations before, only frees after: the peak is here
                        for (Block block : mine) {
                            tracking.dealloc(block.address(), block.byteSize(), 8);
                        }
                        allFreed.await();
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                    allAllocated.reset();
                    allFreed.reset();
                }
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        assertEquals(0, failures.get(), rerun(seed));
        assertEquals(0, tracking.liveBytes(), rerun(seed));
        long expected = 0;
        for (int round = 0; round < rounds; round++) {
            long total = 0;
            for (int thread = 0; thread < threads; thread++) {
                total += roundBytes[thread][round];
            }
            expected = Math.max(expected, total);
        }
        return expected;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"a limit", "exactPeak"})
    void peakIsExactWhenThreadsAllocateTogetherWithALimitOrAskedFor(String mode) throws Exception {
        long seed = seed();
        TrackingAllocator.Builder builder = TrackingAllocator.builder(Smalloc.global());
        TrackingAllocator tracking = (mode.equals("a limit") ? builder.byteLimit(1L << 40) : builder.exactPeak(true)).build();
        assertEquals(allocateTogether(tracking, seed, 4, 40), tracking.peakBytes(), rerun(seed));
    }

    @Test
    void peakOfCountersOnlyIsWithinABatchPerOtherThread() throws Exception {
        long seed = seed();
        int threads = 4;
        TrackingAllocator tracking = TrackingAllocator.of(Smalloc.global());
        long expected = allocateTogether(tracking, seed, threads, 40);
        long peak = tracking.peakBytes();
        assertTrue(peak <= expected, () -> rerun(seed) + ": peak " + peak + " above the true peak " + expected);
        assertTrue(peak >= expected - (threads - 1) * TrackingAllocator.PEAK_BATCH_BYTES,
                () -> rerun(seed) + ": peak " + peak + " more than a batch per other thread below " + expected);
    }

    @Test
    void peakFollowsTheModelOperationByOperation() {
        long seed = seed();
        SplittableRandom random = new SplittableRandom(seed);
        TrackingAllocator tracking = TrackingAllocator.of(heap);
        List<Block> live = new ArrayList<>();
        long liveBytes = 0;
        long peak = 0;
        for (int op = 0; op < 20_000; op++) {
            if (live.isEmpty() || random.nextInt(100) < 50) {
                long byteSize = randomSize(random);
                live.add(new Block(tracking.alloc(byteSize, 16), byteSize, 16));
                liveBytes += byteSize;
            } else if (random.nextBoolean()) {
                Block block = live.remove(random.nextInt(live.size()));
                tracking.dealloc(block.address(), block.byteSize(), 16);
                liveBytes -= block.byteSize();
            } else {
                int index = random.nextInt(live.size());
                Block block = live.get(index);
                long newSize = randomSize(random);
                live.set(index, new Block(tracking.realloc(block.address(), block.byteSize(), 16, newSize), newSize, 16));
                liveBytes += newSize - block.byteSize();
            }
            peak = Math.max(peak, liveBytes);
            assertEquals(liveBytes, tracking.liveBytes(), rerun(seed) + ": op " + op);
            assertEquals(peak, tracking.peakBytes(), rerun(seed) + ": op " + op);
        }
    }

    @Test
    void histogramCountsBlocksByPowerOfTwoClass() {
        assertEquals(0, TrackingAllocator.sizeClass(0));
        assertEquals(0, TrackingAllocator.sizeClass(1));
        assertEquals(1, TrackingAllocator.sizeClass(2));
        assertEquals(2, TrackingAllocator.sizeClass(3));
        assertEquals(2, TrackingAllocator.sizeClass(4));
        assertEquals(3, TrackingAllocator.sizeClass(5));
        assertEquals(10, TrackingAllocator.sizeClass(1024));
        assertEquals(11, TrackingAllocator.sizeClass(1025));
        assertEquals(62, TrackingAllocator.sizeClass(1L << 62));
        assertEquals(63, TrackingAllocator.sizeClass(Long.MAX_VALUE));

        TrackingAllocator tracking = TrackingAllocator.of(heap);
        long[] sizes = {0, 1, 2, 3, 4, 5, 1024, 1025, 1025};
        List<Long> addresses = new ArrayList<>();
        for (long size : sizes) {
            addresses.add(tracking.alloc(size, 1));
        }
        long moved = tracking.realloc(addresses.get(0), 0, 1, 100_000); // class 17, by its new size
        tracking.alloc(Long.MAX_VALUE, 1);                              // failed: not in the histogram
        tracking.dealloc(addresses.get(1), 1, 1);                       // frees do not change it
        long[] expected = new long[TrackingAllocator.SIZE_CLASSES];
        expected[0] = 2;
        expected[1] = 1;
        expected[2] = 2;
        expected[3] = 1;
        expected[10] = 1;
        expected[11] = 2;
        expected[17] = 1;
        assertArrayEquals(expected, tracking.histogram());
        tracking.dealloc(moved, 100_000, 1);
    }

    // ------------------------------------------------------------ the byte limit

    @Test
    void byteLimitFailsLikeExhaustion() {
        TrackingAllocator tracking = TrackingAllocator.builder(heap).byteLimit(1000).build();
        long first = tracking.alloc(600, 8);
        assertNotEquals(0, first);
        assertEquals(0, tracking.alloc(401, 8), "600 + 401 > 1000");
        assertEquals(0, tracking.allocZeroed(401, 8));
        assertEquals(0, tracking.realloc(0, 0, 8, 401));
        assertEquals(3, tracking.failedCount());
        OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> tracking.allocate(500));
        assertTrue(error.getMessage().contains("tracking:tracked"), error::getMessage);
        assertTrue(error.getMessage().contains("500"), error::getMessage);
        assertEquals(4, tracking.failedCount());

        Patterns.fill(first, 600, 9);
        assertEquals(0, tracking.realloc(first, 600, 8, 1001), "growing past the limit");
        Patterns.check(first, 600, 9, "block after a realloc refused by the limit");
        MemorySegment segment = tracking.asSegment(first, 600);
        assertThrows(OutOfMemoryError.class, () -> tracking.reallocate(segment, 2000, 8));
        assertEquals(6, tracking.failedCount());
        assertEquals(600, tracking.liveBytes());
        assertEquals(600, tracking.peakBytes(), "refused requests never count as live");

        long second = tracking.alloc(400, 8); // exactly at the limit
        assertNotEquals(0, second);
        assertEquals(1000, tracking.peakBytes());
        assertEquals(0, tracking.alloc(1, 1));
        long shrunk = tracking.realloc(first, 600, 8, 100); // shrinking always fits
        assertNotEquals(0, shrunk);
        long third = tracking.alloc(500, 8);
        assertNotEquals(0, third);
        assertEquals(1000, tracking.liveBytes());
        assertEquals(0, tracking.alloc(1, 1));
        tracking.dealloc(shrunk, 100, 8);
        tracking.dealloc(second, 400, 8);
        tracking.dealloc(third, 500, 8);
        assertEquals(0, tracking.liveBytes());
        assertNotEquals(0, tracking.alloc(1000, 8));
    }

    @Test
    void byteLimitOfARecordingTracker() {
        TrackingAllocator tracking = TrackingAllocator.builder(heap).byteLimit(100).recordStacks(true).build();
        long block = tracking.alloc(60, 8);
        assertEquals(0, tracking.alloc(41, 8));
        assertEquals(0, tracking.realloc(block, 60, 8, 101));
        assertNotEquals(0, tracking.realloc(0, 0, 8, 40));
        assertEquals(2, tracking.failedCount());
        assertEquals(100, tracking.peakBytes());
        assertEquals(2, tracking.liveBlocks().size());
    }

    @Test
    void byteLimitHoldsUnderThreads() throws InterruptedException {
        long limit = 64 * 1024;
        TrackingAllocator tracking = TrackingAllocator.builder(Smalloc.global()).byteLimit(limit).build();
        List<Thread> workers = new ArrayList<>();
        AtomicLong refused = new AtomicLong();
        for (int t = 0; t < 4; t++) {
            long seed = t;
            workers.add(Thread.ofPlatform().start(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                List<Block> mine = new ArrayList<>();
                for (int op = 0; op < 50_000; op++) {
                    if (mine.isEmpty() || random.nextInt(100) < 55) {
                        long byteSize = random.nextLong(1, 4096);
                        long address = tracking.alloc(byteSize, 8);
                        if (address == 0) {
                            refused.incrementAndGet();
                        } else {
                            mine.add(new Block(address, byteSize, 8));
                        }
                    } else {
                        Block block = mine.remove(mine.size() - 1);
                        tracking.dealloc(block.address(), block.byteSize(), 8);
                    }
                }
                mine.forEach(block -> tracking.dealloc(block.address(), block.byteSize(), 8));
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        assertTrue(refused.get() > 0, "the workload should reach the limit");
        assertEquals(refused.get(), tracking.failedCount());
        assertTrue(tracking.peakBytes() <= limit, () -> "peak " + tracking.peakBytes() + " above the limit");
        assertEquals(0, tracking.liveBytes());
    }

    @Test
    void negativeByteLimitIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> TrackingAllocator.builder(heap).byteLimit(-1));
        assertThrows(NullPointerException.class, () -> TrackingAllocator.of(null));
        assertThrows(NullPointerException.class, () -> TrackingAllocator.builder(heap).traceTo(null));
    }

    // ------------------------------------------------------------ rejected calls

    private void assertRejectedCallsChangeNothing(TrackingAllocator tracking) {
        long block = tracking.alloc(64, 8);
        MemorySegment segment = tracking.allocate(32);
        tracking.realloc(tracking.alloc(8, 8), 8, 8, 16);
        Figures before = Figures.of(tracking);
        long foreign;
        try (Arena other = Arena.ofConfined()) {
            foreign = other.allocate(64, 16).address();
            List<Executable> calls = List.of(
                    () -> tracking.alloc(-1, 8),
                    () -> tracking.alloc(8, 3),
                    () -> tracking.allocZeroed(8, 0),
                    () -> tracking.allocate(-5),
                    () -> tracking.dealloc(block, -1, 8),
                    () -> tracking.dealloc(block, 64, 24),
                    () -> tracking.dealloc(0, -1, 8),
                    () -> tracking.realloc(block, -1, 8, 8),
                    () -> tracking.realloc(block, 64, 8, -1),
                    () -> tracking.realloc(0, 0, 5, 8),
                    () -> tracking.reallocate(segment, -1),
                    () -> tracking.free(MemorySegment.ofArray(new byte[8])),
                    () -> tracking.dealloc(foreign, 64, 16),
                    () -> tracking.realloc(foreign, 64, 16, 128),
                    () -> tracking.dealloc(block + 8, 8, 8));
            for (int i = 0; i < calls.size(); i++) {
                assertThrows(IllegalArgumentException.class, calls.get(i)::execute, "call " + i);
            }
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                    () -> tracking.dealloc(foreign, 64, 16));
            assertNamesAddress(thrown, foreign);
        }
        assertEquals(before, Figures.of(tracking), "figures after rejected calls");
        tracking.dealloc(block, 64, 8);
        tracking.free(segment);
    }

    @Test
    void rejectedCallsChangeNoFigure() {
        assertRejectedCallsChangeNothing(TrackingAllocator.of(heap));
    }

    @Test
    void rejectedCallsChangeNoFigureWhileRecording() {
        assertRejectedCallsChangeNothing(TrackingAllocator.builder(heap).recordStacks(true)
                .traceTo(dir.resolve("rejected.trace")).build());
    }

    @Test
    void recordingTrackerRejectsAWrongSizeAndADoubleFree() {
        TrackingAllocator tracking = TrackingAllocator.builder(new SystemAllocator()).recordStacks(true).build();
        long block = tracking.alloc(100, 8);
        IllegalArgumentException wrongSize = assertThrows(IllegalArgumentException.class,
                () -> tracking.dealloc(block, 64, 8));
        assertNamesAddress(wrongSize, block);
        assertTrue(wrongSize.getMessage().contains("100"), wrongSize::getMessage);
        assertThrows(IllegalArgumentException.class, () -> tracking.realloc(block, 99, 8, 200));
        tracking.dealloc(block, 100, 8);
        IllegalArgumentException doubleFree = assertThrows(IllegalArgumentException.class,
                () -> tracking.dealloc(block, 100, 8)); // libc alone would corrupt its heap here
        assertNamesAddress(doubleFree, block);
        assertEquals(1, tracking.freeCount());
    }

    @Test
    void blockFreedBehindTheTrackersBackIsCountedWhenItsAddressReturns() {
        TrackingAllocator tracking = TrackingAllocator.builder(heap).recordStacks(true).build();
        long block = tracking.alloc(48, 8);
        heap.dealloc(block, 48, 8);                 // straight through the inner allocator
        long again = tracking.alloc(40, 8);         // same class, same thread: LIFO gives it back
        assertEquals(block, again);
        assertEquals(1, tracking.freeCount());
        assertEquals(40, tracking.liveBytes());
        assertEquals(1, tracking.liveBlocks().size());
        tracking.dealloc(again, 40, 8);
    }

    // ------------------------------------------------------------ forwarding

    @Test
    void nameSaysWhatIsTracked() {
        TrackingAllocator tracking = TrackingAllocator.of(heap);
        assertEquals("tracking:tracked", tracking.name());
        assertEquals("tracking:tracking:tracked", TrackingAllocator.of(tracking).name());
        assertEquals("tracking:smalloc", TrackingAllocator.of(Smalloc.global()).name());
        assertTrue(tracking.toString().contains("tracking:tracked"), tracking::toString);
    }

    @Test
    void segmentsHaveTheInnerAllocatorsScope() {
        TrackingAllocator tracking = TrackingAllocator.of(heap);
        MemorySegment segment = tracking.allocate(64);
        assertEquals(heap.asSegment(segment.address(), 64).scope(), segment.scope());
        tracking.close();
        segment.set(ValueLayout.JAVA_LONG, 0, 7); // the tracker's close leaves the heap and its segments alone
        assertEquals(7, segment.get(ValueLayout.JAVA_LONG, 0));
        long address = heap.alloc(8, 8);
        assertNotEquals(0, address, "inner still open");
        heap.close();
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_LONG, 0));
    }

    @Test
    void nestedTrackersBothCount() {
        TrackingAllocator inner = TrackingAllocator.of(heap);
        TrackingAllocator outer = TrackingAllocator.of(inner);
        MemorySegment segment = outer.allocate(100);
        outer.reallocate(segment, 200).fill((byte) 1);
        assertEquals(200, outer.liveBytes());
        assertEquals(200, inner.liveBytes());
        assertEquals(1, inner.reallocCount());
    }

    @Test
    void arenaBlocksAreCountedAndGoBackAtClose() {
        TrackingAllocator tracking = TrackingAllocator.of(heap);
        try (Arena arena = tracking.newArena()) {
            arena.allocate(100);
            arena.allocateFrom(ValueLayout.JAVA_INT, 1, 2, 3);
            assertEquals(2, tracking.allocationCount());
            assertEquals(112, tracking.liveBytes());
        }
        assertEquals(2, tracking.freeCount());
        assertEquals(0, tracking.liveBytes());
    }

    @Test
    void arenaClosedAfterTheTrackerGivesItsBlocksBackUncounted() {
        TrackingAllocator tracking = TrackingAllocator.of(heap);
        Arena arena = tracking.newArena();
        long address = arena.allocate(64).address();
        tracking.close();
        arena.close();
        assertEquals(64, tracking.liveBytes(), "figures froze at close");
        assertEquals(address, heap.alloc(64, 1), "the block went back to the heap (LIFO gives it again)");
    }

    @Test
    void figuresAnswerAfterCloseAndCloseIsIdempotent() {
        TrackingAllocator tracking = TrackingAllocator.builder(heap).recordStacks(true).build();
        tracking.alloc(10, 1);
        tracking.close();
        tracking.close();
        assertEquals(10, tracking.liveBytes());
        assertEquals(1, tracking.liveBlocks().size());
        assertTrue(tracking.leakReport().contains("1 live block"), tracking::leakReport);
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> tracking.alloc(1, 1));
        assertTrue(closed.getMessage().contains("'tracking:tracked' is closed"), closed::getMessage);
    }

    // ------------------------------------------------------------ the leak report

    private static long leakSomeBytes(NativeAllocator allocator) {
        return allocator.alloc(123, 8);
    }

    @Test
    void leakReportNamesTheAllocatingMethod() {
        TrackingAllocator tracking = TrackingAllocator.builder(heap).recordStacks(true).build();
        long kept = tracking.alloc(4000, 64);
        for (int i = 0; i < 3; i++) {
            leakSomeBytes(tracking);
        }
        long freed = tracking.alloc(77, 8);
        tracking.dealloc(freed, 77, 8);
        MemorySegment segment = tracking.allocate(ValueLayout.JAVA_LONG, 4);

        String report = tracking.leakReport();
        assertTrue(report.startsWith("tracking:tracked: 5 live blocks, " + (4000 + 3 * 123 + 32) + " bytes"), report);
        assertTrue(report.contains("leakReportNamesTheAllocatingMethod"), report);
        assertTrue(report.contains("leakSomeBytes"), report);
        assertTrue(report.contains("3 blocks, 369 bytes"), report);
        assertTrue(report.contains("1 block, 4000 bytes"), report);
        assertFalse(report.contains(" 77 B"), report);
        assertTrue(report.indexOf("4000 bytes:") < report.indexOf("369 bytes:"), "most bytes first:\n" + report);

        List<TrackingAllocator.LiveBlock> live = tracking.liveBlocks();
        assertEquals(5, live.size());
        TrackingAllocator.LiveBlock first = live.get(0);
        assertEquals(kept, first.address());
        assertEquals(4000, first.byteSize());
        assertEquals(64, first.byteAlignment());
        assertEquals(Thread.currentThread().getName(), first.threadName());
        StackTraceElement top = first.stackTrace().get(0);
        assertEquals(TrackingAllocatorTest.class.getName(), top.getClassName(), "the first frame is the caller's");
        assertEquals("leakReportNamesTheAllocatingMethod", top.getMethodName());
        assertEquals("leakSomeBytes", live.get(1).stackTrace().get(0).getMethodName());
        StackTraceElement viaSegmentAllocator = live.get(4).stackTrace().get(0);
        assertEquals("leakReportNamesTheAllocatingMethod", viaSegmentAllocator.getMethodName(),
                "frames of NativeAllocator and java.lang.foreign are skipped");

        tracking.free(segment);
        tracking.dealloc(kept, 4000, 64);
        for (TrackingAllocator.LiveBlock block : tracking.liveBlocks()) {
            tracking.dealloc(block.address(), block.byteSize(), block.byteAlignment());
        }
        assertTrue(tracking.leakReport().startsWith("tracking:tracked: 0 live blocks, 0 bytes"), tracking::leakReport);
    }

    @Test
    void leakReportOfArenaBlocksNamesTheCaller() {
        TrackingAllocator tracking = TrackingAllocator.builder(heap).recordStacks(true).build();
        try (Arena arena = tracking.newArena()) {
            arena.allocate(16);
            StackTraceElement top = tracking.liveBlocks().get(0).stackTrace().get(0);
            assertEquals("leakReportOfArenaBlocksNamesTheCaller", top.getMethodName());
        }
        assertTrue(tracking.liveBlocks().isEmpty());
    }

    @Test
    void leakReportWithoutStacksSaysHowToGetThem() {
        TrackingAllocator counting = TrackingAllocator.of(heap);
        counting.alloc(8, 8);
        String report = counting.leakReport();
        assertTrue(report.startsWith("tracking:tracked: 1 live block, 8 bytes"), report);
        assertTrue(report.contains("recordStacks(true)"), report);
        assertTrue(counting.liveBlocks().isEmpty());

        TrackingAllocator tracing = TrackingAllocator.builder(heap).traceTo(dir.resolve("r.trace")).build();
        long block = tracing.alloc(8, 8);
        assertTrue(tracing.leakReport().contains(Patterns.hex(block)), tracing::leakReport);
        assertTrue(tracing.liveBlocks().get(0).stackTrace().isEmpty());
    }

    // ------------------------------------------------------------ the trace

    /** The event with its time set to 0, for comparisons. */
    private static TraceEvent timeless(TraceEvent event) {
        return switch (event) {
            case TraceEvent.Alloc e -> new TraceEvent.Alloc(e.thread(), 0, e.blockId(), e.byteSize(), e.byteAlignment(), e.zeroed());
            case TraceEvent.Free e -> new TraceEvent.Free(e.thread(), 0, e.blockId(), e.byteSize());
            case TraceEvent.Realloc e -> new TraceEvent.Realloc(e.thread(), 0, e.blockId(), e.oldSize(), e.newSize(), e.byteAlignment());
            case TraceEvent.Failed e -> new TraceEvent.Failed(e.thread(), 0, e.kind(), e.blockId(), e.oldSize(), e.byteSize(), e.byteAlignment());
            case TraceEvent.ThreadStart e -> e;
            case TraceEvent.End e -> new TraceEvent.End(0, e.records());
        };
    }

    private static long nanos(TraceEvent event) {
        return switch (event) {
            case TraceEvent.Alloc e -> e.nanos();
            case TraceEvent.Free e -> e.nanos();
            case TraceEvent.Realloc e -> e.nanos();
            case TraceEvent.Failed e -> e.nanos();
            case TraceEvent.ThreadStart e -> -1;
            case TraceEvent.End e -> e.nanos();
        };
    }

    @Test
    void traceReadsBackAsTheOperationsDone() throws Exception {
        Path file = dir.resolve("round-trip.trace");
        Instant before = Instant.now().minusSeconds(1);
        TrackingAllocator tracking = TrackingAllocator.builder(heap).traceTo(file).build();
        assertEquals(Optional.of(file), tracking.traceFile());
        long a = tracking.alloc(100, 8);
        long b = tracking.allocZeroed(200, 64);
        a = tracking.realloc(a, 100, 8, 5000);
        long c = tracking.realloc(0, 0, 16, 300);
        assertEquals(0, tracking.alloc(Long.MAX_VALUE, 1));
        assertEquals(0, tracking.realloc(b, 200, 64, Long.MAX_VALUE));
        tracking.dealloc(b, 200, 64);
        tracking.dealloc(0, 10, 1); // NULL: not recorded
        Thread other = Thread.ofPlatform().name("tracer-2").start(() -> {
            long d = tracking.alloc(7, 1);
            tracking.dealloc(d, 7, 1);
        });
        other.join();
        tracking.dealloc(a, 5000, 8);
        try (Arena arena = tracking.newArena()) {
            arena.allocate(64);
        }
        tracking.dealloc(c, 300, 16);
        tracking.close();

        Thread main = Thread.currentThread();
        List<TraceEvent> expected = List.of(
                new TraceEvent.ThreadStart(0, main.threadId(), main.getName()),
                new TraceEvent.Alloc(0, 0, 0, 100, 8, false),
                new TraceEvent.Alloc(0, 0, 1, 200, 64, true),
                new TraceEvent.Realloc(0, 0, 0, 100, 5000, 8),
                new TraceEvent.Alloc(0, 0, 2, 300, 16, false),
                new TraceEvent.Failed(0, 0, TraceEvent.Failed.Kind.ALLOC, -1, 0, Long.MAX_VALUE, 1),
                new TraceEvent.Failed(0, 0, TraceEvent.Failed.Kind.REALLOC, 1, 200, Long.MAX_VALUE, 64),
                new TraceEvent.Free(0, 0, 1, 200),
                new TraceEvent.ThreadStart(1, other.threadId(), "tracer-2"),
                new TraceEvent.Alloc(1, 0, 3, 7, 1, false),
                new TraceEvent.Free(1, 0, 3, 7),
                new TraceEvent.Free(0, 0, 0, 5000),
                new TraceEvent.Alloc(0, 0, 4, 64, 1, true),
                new TraceEvent.Free(0, 0, 4, 64),
                new TraceEvent.Free(0, 0, 2, 300),
                new TraceEvent.End(0, 15));

        try (TraceReader reader = TraceReader.open(file)) {
            assertEquals(1, reader.version());
            assertEquals("tracking:tracked", reader.allocatorName());
            assertTrue(reader.startTime().isAfter(before) && reader.startTime().isBefore(Instant.now().plusSeconds(1)),
                    () -> "start " + reader.startTime());
            List<TraceEvent> events = new ArrayList<>();
            for (TraceEvent event; (event = reader.next()) != null; ) {
                events.add(event);
            }
            assertEquals(expected, events.stream().map(TrackingAllocatorTest::timeless).toList());
            assertTrue(reader.complete());
            assertEquals(null, reader.next());
            long last = 0;
            for (TraceEvent event : events) {
                long nanos = nanos(event);
                if (nanos >= 0) {
                    assertTrue(nanos >= last, "times never go back");
                    last = nanos;
                }
            }
            assertTrue(last < Duration.ofMinutes(5).toNanos(), "times are since the start: " + last);
        }
        long bytes = Files.size(file);
        assertTrue(bytes < 20 + 18 + 15 * 12 + 40, "compact: " + bytes + " bytes for 16 records");
    }

    @Test
    void traceCutShortReadsUpToTheCut() throws IOException {
        Path file = dir.resolve("cut.trace");
        TrackingAllocator tracking = TrackingAllocator.builder(heap).traceTo(file).build();
        for (int i = 0; i < 100; i++) {
            tracking.dealloc(tracking.alloc(1000 + i, 8), 1000 + i, 8);
        }
        tracking.close();
        byte[] whole = Files.readAllBytes(file);
        assertEquals(202, TraceReader.readAll(file).size(), "thread, 200 records, end");
        for (int cut : new int[] {whole.length - 1, whole.length - 3, whole.length / 2, 40}) {
            Path shorter = dir.resolve("cut-" + cut + ".trace");
            Files.write(shorter, java.util.Arrays.copyOf(whole, cut));
            try (TraceReader reader = TraceReader.open(shorter)) {
                int events = 0;
                while (reader.next() != null) {
                    events++;
                }
                assertFalse(reader.complete(), "cut at " + cut);
                assertTrue(events < 202, "cut at " + cut);
            }
        }
    }

    @Test
    void readerRejectsWhatIsNotATrace() throws IOException {
        Path text = dir.resolve("text.trace");
        Files.writeString(text, "hello, this is not a trace at all");
        IOException notATrace = assertThrows(IOException.class, () -> TraceReader.open(text));
        assertTrue(notATrace.getMessage().contains("not a smalloc4j trace"), notATrace::getMessage);

        Path file = dir.resolve("v.trace");
        TrackingAllocator.builder(heap).traceTo(file).build().close();
        byte[] bytes = Files.readAllBytes(file);
        bytes[9] = 9; // version 9
        Files.write(file, bytes);
        IOException version = assertThrows(IOException.class, () -> TraceReader.open(file));
        assertTrue(version.getMessage().contains("version 9"), version::getMessage);

        bytes[9] = 1;
        int end = 20 + 1 + "tracking:tracked".length(); // header: fixed part, name length, name
        assertEquals(7, bytes[end], "the END record follows the header");
        bytes[end] = 99;
        Files.write(file, bytes);
        try (TraceReader reader = TraceReader.open(file)) {
            IOException unknown = assertThrows(IOException.class, reader::next);
            assertTrue(unknown.getMessage().contains("unknown record op 99"), unknown::getMessage);
        }
    }

    @Test
    void traceToAnUnwritablePathFailsAtBuild() {
        Path missing = dir.resolve("no/such/folder/x.trace");
        UncheckedIOException error = assertThrows(UncheckedIOException.class,
                () -> TrackingAllocator.builder(heap).traceTo(missing).build());
        assertTrue(error.getMessage().contains(missing.toString()), error::getMessage);
    }

    /** Live bytes and the other figures, computed from a trace alone. */
    static final class Replay {
        long live, peak, allocations, frees, reallocs, failed;
        boolean complete;
        final Map<Integer, String> threadNames = new HashMap<>();

        static Replay of(Path file) throws IOException {
            Replay replay = new Replay();
            Map<Long, Long> sizes = new HashMap<>();
            try (TraceReader reader = TraceReader.open(file)) {
                for (TraceEvent event; (event = reader.next()) != null; ) {
                    switch (event) {
                        case TraceEvent.Alloc e -> {
                            assertEquals(null, sizes.put(e.blockId(), e.byteSize()), "block ids are new");
                            replay.allocations++;
                            replay.grow(e.byteSize());
                        }
                        case TraceEvent.Free e -> {
                            assertEquals(e.byteSize(), sizes.remove(e.blockId()), "free of live block " + e.blockId());
                            replay.frees++;
                            replay.live -= e.byteSize();
                        }
                        case TraceEvent.Realloc e -> {
                            assertEquals(e.oldSize(), sizes.put(e.blockId(), e.newSize()), "realloc of live block");
                            replay.reallocs++;
                            replay.grow(e.newSize() - e.oldSize());
                        }
                        case TraceEvent.Failed e -> replay.failed++;
                        case TraceEvent.ThreadStart e -> replay.threadNames.put(e.index(), e.name());
                        case TraceEvent.End e -> { }
                    }
                }
                replay.complete = reader.complete();
            }
            return replay;
        }

        private void grow(long bytes) {
            live += bytes;
            peak = Math.max(peak, live);
        }
    }

    @Test
    void traceOfSeveralThreadsNamesThemAll() throws Exception {
        Path file = dir.resolve("named.trace");
        TrackingAllocator tracking = TrackingAllocator.builder(Smalloc.global()).traceTo(file).build();
        Supplier<Runnable> work = () -> () -> {
            for (int i = 0; i < 1000; i++) {
                tracking.dealloc(tracking.alloc(i, 8), i, 8);
            }
        };
        List<Thread> threads = List.of(Thread.ofPlatform().name("p-1").start(work.get()),
                Thread.ofVirtual().name("v-1").start(work.get()), Thread.ofPlatform().name("p-2").start(work.get()));
        for (Thread thread : threads) {
            thread.join();
        }
        tracking.close();
        Replay replay = Replay.of(file);
        assertEquals(3000, replay.allocations);
        assertEquals(java.util.Set.of("p-1", "v-1", "p-2"), java.util.Set.copyOf(replay.threadNames.values()));
        assertEquals(tracking.peakBytes(), replay.peak);
    }

    @Test
    void anArenaOfATrackerKeepsAClosedInnerHeapMappedUntilItCloses() {
        Smalloc heap = Smalloc.builder().slabsPerClass(2).slabBytes(1 << 20).largestSlot(1 << 16).build();
        TrackingAllocator tracker = TrackingAllocator.of(heap);
        Arena arena = tracker.newArena();
        MemorySegment segment = arena.allocate(256);
        segment.fill((byte) 7);
        heap.close(); // the arena is still open: its segments must not point at unmapped memory
        assertEquals(7, segment.get(ValueLayout.JAVA_BYTE, 255), "still mapped while the arena lives");
        arena.close(); // gives its block back to a closed heap without complaint, then lets it unmap
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
        assertFalse(heap.contains(segment.address()));
    }
}
