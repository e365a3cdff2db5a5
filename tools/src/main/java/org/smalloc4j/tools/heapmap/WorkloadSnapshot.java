package org.smalloc4j.tools.heapmap;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.tools.bench.BenchFailure;
import org.smalloc4j.tools.bench.BenchSettings;
import org.smalloc4j.tools.bench.Workload;

/**
 * Runs a workload on a Smalloc heap and takes the heap's {@link Smalloc#stats()} while its blocks
 * are live: every thread performs its operations, then all wait while the snapshot is taken, then
 * each frees what it still holds ({@link Workload.Worker#finish()}, on its own thread) and the case
 * frees the rest. Per-thread seeds are those of {@code smalloc4j bench} with the same seed.
 */
public final class WorkloadSnapshot {

    private WorkloadSnapshot() {
    }

    /**
     * The heap's stats after {@code opsPerThread} operations of {@code workload} on each of
     * {@code threads} threads, taken before the blocks are freed. When it returns, the workload has
     * freed all its blocks again and the heap passed {@link Smalloc#verify()}.
     *
     * @throws IllegalArgumentException if {@code threads} is below 1 or above the workload's
     *         {@link Workload#maxThreads()}, or {@code opsPerThread} is below 1
     * @throws BenchFailure if the workload failed (the heap could not allocate, a block lost its content)
     * @throws IllegalStateException if the heap's {@link Smalloc#verify()} fails afterwards
     */
    public static SmallocStats take(Workload workload, Smalloc heap, int threads, long opsPerThread, long seed) {
        if (threads < 1 || threads > workload.maxThreads()) {
            throw new IllegalArgumentException("workload " + workload.name() + " runs on 1 to "
                    + workload.maxThreads() + " threads, not " + threads);
        }
        if (opsPerThread < 1) {
            throw new IllegalArgumentException("operations per thread " + opsPerThread + " is below 1");
        }
        BenchSettings seeds = new BenchSettings(Duration.ZERO, Duration.ZERO, opsPerThread, 1, seed);
        Workload.Case sharedCase = workload.newCase(heap, threads);
        CountDownLatch ran = new CountDownLatch(threads);
        CountDownLatch snapshotTaken = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        SmallocStats stats = null;
        // close() at the end of the block waits until every thread has freed its blocks
        try (ExecutorService crew = Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("heapmap-" + workload.name() + "-", 0).factory())) {
            for (int index = 0; index < threads; index++) {
                final int threadIndex = index;
                crew.execute(() -> {
                    Workload.Worker worker = null;
                    try {
                        worker = sharedCase.newWorker(threadIndex, seeds.threadSeed(threadIndex));
                        worker.run(opsPerThread);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        ran.countDown();
                    }
                    try {
                        snapshotTaken.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt(); // the run was cancelled: free the blocks all the same
                    }
                    if (worker != null) {
                        try {
                            worker.finish();
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    }
                });
            }
            try {
                ran.await();
                if (failure.get() == null) {
                    stats = heap.stats(); // every thread is parked: the counts are exact
                }
            } catch (InterruptedException e) {
                failure.compareAndSet(null, e);
                Thread.currentThread().interrupt();
            } finally {
                snapshotTaken.countDown();
            }
        }
        try {
            sharedCase.finish();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        BenchFailure.throwIfFailed(failure.get(), workload, heap.name());
        heap.verify();
        return stats;
    }
}
