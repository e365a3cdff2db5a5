package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.smalloc4j.internal.TrackingCounters.PUBLISH_BATCH;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;

import org.junit.jupiter.api.Test;
import org.smalloc4j.internal.TrackingCounters;

/**
 * The per-thread counters behind TrackingAllocator, without an allocator: exact sums, the peak
 * published in batches (exact on one thread, short by at most a batch per thread), and no growth
 * with short-lived threads.
 */
class TrackingCountersTest {

    /** Counts an allocation on the calling thread, as a counters-only tracker does. */
    private static void allocated(TrackingCounters counters, long byteSize) {
        counters.allocated(byteSize);
    }

    /** Counts a free on the calling thread, as a counters-only tracker does. */
    private static void freed(TrackingCounters counters, long byteSize) {
        counters.freed(byteSize);
    }

    /** A started thread that has counted an allocation and waits for {@code release}, then runs {@code atEnd}. */
    private static Thread holding(TrackingCounters counters, long byteSize, CountDownLatch release, Runnable atEnd)
            throws InterruptedException {
        CountDownLatch counted = new CountDownLatch(1);
        Thread thread = Thread.ofPlatform().start(() -> {
            allocated(counters, byteSize);
            counted.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            atEnd.run();
        });
        counted.await();
        return thread;
    }

    @Test
    void sumsAreExactAfterConcurrentCounting() throws InterruptedException {
        TrackingCounters counters = new TrackingCounters();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 200_000; i++) {
                    counters.allocated(i);
                    counters.freed(i);
                }
                counters.failed();
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        long bytesPerThread = 200_000L * 199_999 / 2;
        assertEquals(8 * 200_000L, counters.allocations());
        assertEquals(8 * 200_000L, counters.sum(TrackingCounters.FREES));
        assertEquals(8, counters.sum(TrackingCounters.FAILURES));
        assertEquals(0, counters.sum(TrackingCounters.REALLOCS));
        assertEquals(8 * bytesPerThread, counters.sum(TrackingCounters.ALLOCATED_BYTES));
        assertEquals(8 * bytesPerThread, counters.sum(TrackingCounters.FREED_BYTES));
        assertEquals(0, counters.liveBytes());
        long[] histogram = counters.histogram();
        assertEquals(8 * 200_000L, Arrays.stream(histogram).sum());
        assertEquals(8 * 2, histogram[0], "sizes 0 and 1");
        assertEquals(8 * (199_999 - 131_072), histogram[18], "sizes 131073 .. 199999");
        long peak = counters.peakBytes();
        // each thread holds at most one block: live bytes never passed 8 blocks of the largest size
        assertTrue(peak <= 8 * 199_999L, () -> "peak " + peak + " above any live bytes there were");
    }

    @Test
    void peakIsExactOnOneThreadWhateverTheSizes() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom random = new SplittableRandom(seed);
        TrackingCounters counters = new TrackingCounters();
        List<Long> live = new ArrayList<>();
        long liveBytes = 0;
        long peak = 0;
        for (int op = 0; op < 50_000; op++) {
            if (live.isEmpty() || random.nextInt(100) < 52) {
                long byteSize = random.nextInt(10) == 0 ? random.nextLong(3 * PUBLISH_BATCH) : random.nextLong(2000);
                counters.allocated(byteSize);
                live.add(byteSize);
                liveBytes += byteSize;
            } else {
                long byteSize = live.remove(random.nextInt(live.size()));
                counters.freed(byteSize);
                liveBytes -= byteSize;
            }
            peak = Math.max(peak, liveBytes);
            assertEquals(peak, counters.peakBytes(), "seed " + seed + ", op " + op);
        }
        assertEquals(liveBytes, counters.liveBytes());
    }

    @Test
    void peakIsWithinABatchPerThreadOfTheLiveBytesAtEachQuietMoment() throws Exception {
        int threads = 4;
        TrackingCounters counters = new TrackingCounters();
        CyclicBarrier quiet = new CyclicBarrier(threads + 1);
        long[] mostHeld = new long[threads]; // per thread, read by the main thread after a barrier
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            long seed = t;
            workers.add(Thread.ofPlatform().start(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                List<Long> held = new ArrayList<>();
                long heldBytes = 0;
                try {
                    for (int round = 1; round <= 6; round++) {
                        // grow by more each round, freeing some on the way: each round's high is a new peak
                        for (int i = 0; i < 400 * round; i++) {
                            long byteSize = random.nextLong(20_000);
                            counters.allocated(byteSize);
                            held.add(byteSize);
                            heldBytes += byteSize;
                            mostHeld[thread] = Math.max(mostHeld[thread], heldBytes);
                            if (random.nextInt(4) == 0) {
                                long freed = held.remove(random.nextInt(held.size()));
                                counters.freed(freed);
                                heldBytes -= freed;
                            }
                        }
                        quiet.await(); // the main thread reads while nobody counts
                        quiet.await();
                        while (!held.isEmpty()) {
                            counters.freed(held.remove(held.size() - 1));
                        }
                        heldBytes = 0;
                        quiet.await(); // the main thread checks that all was freed
                        quiet.await();
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
        }
        long highest = 0;
        for (int round = 1; round <= 6; round++) {
            quiet.await();
            long live = counters.liveBytes();
            long peak = counters.peakBytes();
            highest = Math.max(highest, live);
            long shortfall = highest - peak;
            long atMost = java.util.Arrays.stream(mostHeld).sum(); // no moment had more live than this
            assertTrue(peak <= atMost, () -> "peak " + peak + " above any live bytes there were, " + atMost);
            assertTrue(shortfall <= threads * PUBLISH_BATCH,
                    () -> "peak " + peak + " is " + shortfall + " below live bytes " + live);
            quiet.await();
            quiet.await();
            assertEquals(0, counters.liveBytes(), "round " + round);
            quiet.await();
        }
        for (Thread worker : workers) {
            worker.join();
        }
    }

    @Test
    void peakFallsShortByWhatAnotherThreadHoldsBackUntilItsCellIsFolded() throws InterruptedException {
        TrackingCounters counters = new TrackingCounters();
        CountDownLatch finish = new CountDownLatch(1);
        long heldBack = PUBLISH_BATCH - 10; // within a batch: not published
        Thread other = holding(counters, heldBack, finish, () -> { });
        assertEquals(heldBack, counters.peakBytes(), "the other thread saw its own bytes");
        allocated(counters, 100);
        assertEquals(heldBack + 100, counters.liveBytes(), "live bytes are exact");
        assertEquals(heldBack, counters.peakBytes(), "short by the other thread's unpublished bytes, below a batch");

        finish.countDown();
        other.join();
        assertEquals(heldBack + 100, counters.liveBytes(), "reading folds the ended thread's cell");
        assertEquals(1, counters.cellCount());
        allocated(counters, 1);
        // this thread's limit was set before the fold published the other's bytes: short by at most a batch
        long peak = counters.peakBytes();
        assertTrue(peak >= heldBack + 101 - PUBLISH_BATCH && peak <= heldBack + 101, () -> "peak " + peak);
        allocated(counters, PUBLISH_BATCH);
        assertEquals(heldBack + 101 + PUBLISH_BATCH, counters.peakBytes(), "exact again once this thread publishes");
    }

    @Test
    void freesOfAnotherThreadsBlocksKeepLiveAndPeakExact() throws InterruptedException {
        TrackingCounters counters = new TrackingCounters();
        long big = 5 * PUBLISH_BATCH;
        allocated(counters, big);
        Thread.ofPlatform().start(() -> freed(counters, big)).join(); // that cell's live bytes go negative
        assertEquals(0, counters.liveBytes());
        assertEquals(big, counters.peakBytes());
        allocated(counters, big + 1);
        assertEquals(big + 1, counters.peakBytes(), "after the fold, one thread: exact");
        assertEquals(big + 1, counters.liveBytes());
    }

    @Test
    void cellsOfEndedThreadsAreFoldedAndTheirCountsKept() throws InterruptedException {
        TrackingCounters counters = new TrackingCounters();
        for (int t = 0; t < 1000; t++) {
            Thread.ofPlatform().start(() -> allocated(counters, 3)).join();
        }
        assertTrue(counters.cellCount() <= 128, () -> counters.cellCount() + " cells for 1 live thread");
        assertEquals(1000, counters.allocations());
        assertEquals(3000, counters.liveBytes());
        assertEquals(0, counters.cellCount(), "reading folded them all");
        allocated(counters, 5);
        assertEquals(3005, counters.peakBytes(), "folding published what the ended threads held back");
    }

    /** Starts and joins threads until one has a thread id that {@code matches}; returns it. */
    private static Thread startedUntil(LongPredicate matches, Runnable work)
            throws InterruptedException {
        for (int attempt = 0; attempt < 100_000; attempt++) {
            Thread thread = Thread.ofPlatform().unstarted(work);
            if (matches.test(thread.threadId())) {
                thread.start();
                thread.join();
                return thread;
            }
        }
        throw new AssertionError("no thread id matched in 100000 threads");
    }

    @Test
    void threadsWhoseIdsShareACacheSlotCountApart() throws InterruptedException {
        TrackingCounters counters = new TrackingCounters();
        CountDownLatch finish = new CountDownLatch(1);
        Thread holder = holding(counters, 1000, finish, () -> freed(counters, 1000));
        long slotMask = 255; // CACHED_CELLS - 1: ids equal modulo 256 share a slot
        AtomicInteger sameCellTwice = new AtomicInteger();
        Runnable twice = () -> {
            long[] first = counters.cell();
            allocated(counters, 7);
            allocated(counters, 7);
            if (counters.cell() == first) {
                sameCellTwice.incrementAndGet();
            }
        };
        // a live thread holds the slot: this one finds its cell the other way, and twice the same
        startedUntil(id -> id != holder.threadId() && (id & slotMask) == (holder.threadId() & slotMask), twice);
        assertEquals(1, sameCellTwice.get());
        assertEquals(1014, counters.liveBytes());
        assertEquals(3, counters.allocations());
        assertEquals(1, counters.cellCount(), "the ended thread's one cell was folded");
        finish.countDown();
        holder.join();
        // the slot's owner ended: the next thread of that slot takes it over, and counts apart as well
        startedUntil(id -> (id & slotMask) == (holder.threadId() & slotMask), twice);
        assertEquals(2, sameCellTwice.get());
        assertEquals(28, counters.liveBytes());
        assertEquals(5, counters.allocations());
        assertEquals(1, counters.sum(TrackingCounters.FREES));
        assertEquals(0, counters.cellCount());
    }

    @Test
    void manyVirtualThreadsCountExactlyInBoundedMemory() {
        TrackingCounters counters = new TrackingCounters();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 20_000; t++) {
                executor.submit(counters::failed);
            }
        }
        assertTrue(counters.cellCount() < 20_000, () -> counters.cellCount() + " cells left of 20000 ended threads");
        assertEquals(20_000, counters.sum(TrackingCounters.FAILURES));
    }
}
