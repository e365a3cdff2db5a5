package org.smalloc4j.tools.replay;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

import org.smalloc4j.NativeAllocator;
import org.smalloc4j.tools.bench.CaseRunner;

/**
 * Replays a trace with one platform thread per recorded thread, each operation on the stand-in of
 * the thread that recorded it, in trace order: the threads take turns, so the live set after every
 * operation is the trace's, while each allocator sees its blocks allocated and freed by the threads
 * that did so (thread caches, per-thread slabs and cross-thread frees as recorded).
 *
 * <p>The turn is the number of operations done, in an {@link AtomicInteger}: the thread that owns
 * operation {@code i} waits until the turn is {@code i} (spinning briefly, then parked), performs it,
 * sets the turn to {@code i + 1} (a volatile write: the next owner sees every write made so far) and
 * unparks the owner of the next operation. The operations run one at a time, as they took effect when
 * recorded; the hand-over between threads costs far more than an allocation, so time in this mode
 * measures the hand-over, not the allocator.
 */
final class TurnTaking {

    /** Spins before a waiting thread parks: a hand-over between two running threads needs no park. */
    private static final int SPINS = 200;

    private final ReplayEngine engine;
    private final NativeAllocator allocator;
    private final ReplayEngine.WasteCounter waste;
    private final IntConsumer afterEach;
    private final AtomicInteger turn = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread[] threads;

    TurnTaking(ReplayEngine engine, NativeAllocator allocator, ReplayEngine.WasteCounter waste, IntConsumer afterEach) {
        this.engine = engine;
        this.allocator = allocator;
        this.waste = waste;
        this.afterEach = afterEach;
        this.threads = new Thread[engine.trace.threads()];
    }

    /**
     * Runs every operation and returns when all threads are done.
     *
     * @throws ReplayFailure (or another exception) that a thread met; the others stop at their next turn
     */
    void run() {
        int[][] operationsByThread = engine.trace.operationsByThread();
        for (int t = 0; t < threads.length; t++) {
            int[] mine = operationsByThread[t];
            threads[t] = Thread.ofPlatform().name("replay-" + t).unstarted(() -> replay(mine));
        }
        for (Thread thread : threads) {
            thread.start();
        }
        for (Thread thread : threads) {
            CaseRunner.joinUninterruptibly(thread);
        }
        Throwable thrown = failure.get();
        if (thrown instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (thrown instanceof Error error) {
            throw error;
        }
    }

    private void replay(int[] mine) {
        int operations = engine.trace.operations();
        for (int i : mine) {
            if (!awaitTurn(i)) {
                return; // another thread failed
            }
            try {
                engine.perform(allocator, i, waste);
                if (afterEach != null) {
                    afterEach.accept(i + 1);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                for (Thread thread : threads) {
                    LockSupport.unpark(thread);
                }
                return;
            }
            turn.set(i + 1);
            if (i + 1 < operations) {
                LockSupport.unpark(threads[engine.trace.thread(i + 1)]);
            }
        }
    }

    /** Waits until operation {@code i} is due; false if a thread failed meanwhile. */
    private boolean awaitTurn(int i) {
        for (int spins = 0; turn.get() != i; spins++) {
            if (failure.get() != null) {
                return false;
            }
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this); // unparked by the owner of operation i - 1, or on a failure
            }
        }
        return true;
    }
}
