package org.smalloc4j.tools.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicReference;

import org.smalloc4j.NativeAllocator;

/**
 * Times one case: one workload on one allocator with a number of threads.
 *
 * <p>Each thread makes its worker, then all threads run the workload together: a warm-up (for the
 * JIT), then the timed rounds. A phaser lines the threads up before the warm-up, before each round
 * and after the last, so that rounds overlap fully and no thread frees its blocks while another is
 * still timing; a thread that fails leaves the phaser, so that the others are never left waiting
 * for it, and they stop at their next round. Each thread times itself with
 * {@link System#nanoTime()}; a round's figure is the mean of its threads' nanoseconds per
 * operation. Timed rounds check the clock every {@link #BATCH_OPS} operations.
 */
public final class CaseRunner {

    /** Operations between two clock reads in a timed round: the clock costs well under 1%. */
    static final long BATCH_OPS = 1_000;

    private final Workload workload;
    private final NativeAllocator allocator;
    private final int threads;
    private final BenchSettings settings;
    private final double[][] nsPerOp;            // [round][thread]
    private final Phaser phaser;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long deadline;              // end of the current warm-up or round (nanoTime)
    private Workload.Case sharedCase;            // written before the threads start

    private CaseRunner(Workload workload, NativeAllocator allocator, int threads, BenchSettings settings) {
        this.workload = workload;
        this.allocator = allocator;
        this.threads = threads;
        this.settings = settings;
        this.nsPerOp = new double[settings.rounds()][threads];
        this.phaser = new Phaser(threads) {
            /** Run by the last thread to arrive: starts the warm-up (after phase 0) or the next round. */
            @Override
            protected boolean onAdvance(int phase, int registeredParties) {
                Duration length = phase == 0 ? settings.warmup() : settings.roundTime();
                deadline = System.nanoTime() + length.toNanos();
                return registeredParties == 0;
            }
        };
    }

    /**
     * Runs the case and returns its timing.
     *
     * @throws BenchFailure if the allocator failed the workload (the first failure of any thread)
     */
    public static Measurement measure(Workload workload, NativeAllocator allocator, int threads, BenchSettings settings) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads " + threads + " is below 1");
        }
        return new CaseRunner(workload, allocator, threads, settings).run();
    }

    private Measurement run() {
        sharedCase = workload.newCase(allocator, threads);
        List<Thread> crew = new ArrayList<>(threads);
        for (int index = 0; index < threads; index++) {
            final int threadIndex = index;
            crew.add(Thread.ofPlatform()
                    .name("bench-" + workload.name() + "-" + allocator.name() + "-" + index)
                    .start(() -> runThread(threadIndex)));
        }
        for (Thread thread : crew) {
            joinUninterruptibly(thread);
        }
        try {
            sharedCase.finish(); // every worker is done: what the case still holds is freed here
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        BenchFailure.throwIfFailed(failure.get(), workload, allocator.name());
        double[] rounds = new double[settings.rounds()];
        for (int round = 0; round < rounds.length; round++) {
            double sum = 0;
            for (double threadNs : nsPerOp[round]) {
                sum += threadNs;
            }
            rounds[round] = sum / threads;
        }
        return new Measurement(workload, allocator.name(), threads, rounds);
    }

    private void runThread(int index) {
        Workload.Worker worker = null;
        try {
            worker = sharedCase.newWorker(index, settings.threadSeed(index));
            phaser.arriveAndAwaitAdvance(); // warm-up
            runUntil(worker, deadline);
            for (int round = 0; round < settings.rounds(); round++) {
                phaser.arriveAndAwaitAdvance();
                if (failure.get() != null) {
                    return; // another thread failed: its failure is the one reported
                }
                long untimedBefore = worker.untimedNanos();
                long start = System.nanoTime();
                long ops;
                if (settings.fixedOps()) {
                    ops = settings.opsPerRound();
                    worker.run(ops);
                } else {
                    ops = runUntil(worker, deadline);
                }
                long elapsed = System.nanoTime() - start - (worker.untimedNanos() - untimedBefore);
                nsPerOp[round][index] = (double) Math.max(elapsed, 1) / ops;
            }
            phaser.arriveAndAwaitAdvance(); // every thread is done timing before any frees its blocks
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            phaser.arriveAndDeregister();
            if (worker != null) {
                try {
                    worker.finish(); // checks and gives back what this thread still holds
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
        }
    }

    /** Runs batches until the deadline passes; returns the operations done (at least one batch). */
    private static long runUntil(Workload.Worker worker, long deadline) {
        long ops = 0;
        do {
            worker.run(BATCH_OPS);
            ops += BATCH_OPS;
        } while (System.nanoTime() - deadline < 0);
        return ops;
    }

    /** Waits for {@code thread} to end, keeping an interrupt for later (also used by the replay's threads). */
    public static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
