package org.smalloc4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A fixed set of counters that many threads add to without a locked instruction: each thread adds
 * only to its own {@link Cell} (an opaque store, a plain move on x86-64 and AArch64), and readers sum
 * the cells. {@link java.util.concurrent.atomic.LongAdder} would not do here: while it meets no
 * contention it adds with a compare-and-set on one shared word, a locked instruction per add.
 *
 * <p><b>Exactness.</b> Every add is counted exactly once. A sum taken while threads are adding
 * holds each cell's value at some moment during the sum; once the adders are quiet it is exact.
 *
 * <p><b>Threads that end.</b> A cell stays registered until its thread has ended; then its counts
 * are folded into a retired total (a thread's last writes happen-before another thread sees it
 * dead) and the cell is dropped. Folding runs when the number of cells has doubled since the last
 * fold, so many short-lived (say virtual) threads cost memory in proportion to those alive.
 */
public final class ThreadCounters {

    private static final VarHandle COUNTS = MethodHandles.arrayElementVarHandle(long[].class);

    /** The counters of one thread. Only that thread adds to them. */
    public static final class Cell {
        private final long[] counts;
        private final WeakReference<Thread> owner;
        /**
         * The owner's index in a trace, -1 before its first record; for the trace writer, which
         * reads and sets it under its own lock.
         */
        public int traceThread = -1;

        private Cell(int counters, Thread owner) {
            this.counts = new long[counters];
            this.owner = new WeakReference<>(owner);
        }

        /** Adds {@code delta} to counter {@code counter}; only the owner thread may call it. */
        public void add(int counter, long delta) {
            // single writer: a plain read of our own value, an opaque store that readers see whole
            COUNTS.setOpaque(counts, counter, counts[counter] + delta);
        }

        private long get(int counter) {
            return (long) COUNTS.getOpaque(counts, counter);
        }

        /** Has the owner ended (or been collected, which a live thread cannot be)? */
        private boolean ownerEnded() {
            Thread thread = owner.get();
            return thread == null || !thread.isAlive();
        }
    }

    private final int counters;
    private final ThreadLocal<Cell> cells;
    private final List<Cell> registered = new ArrayList<>();   // guarded by this
    private final long[] retired;                               // guarded by this
    private int foldAt = 64;                                    // guarded by this

    /** {@code counters} counters, all 0. */
    public ThreadCounters(int counters) {
        if (counters <= 0) {
            throw new IllegalArgumentException("counters " + counters + " is not positive");
        }
        this.counters = counters;
        this.retired = new long[counters];
        this.cells = ThreadLocal.withInitial(this::register);
    }

    /** The calling thread's cell, registered on its first call. */
    public Cell cell() {
        return cells.get();
    }

    private synchronized Cell register() {
        if (registered.size() >= foldAt) {
            foldEndedThreads();
            foldAt = Math.max(64, 2 * registered.size());
        }
        Cell cell = new Cell(counters, Thread.currentThread());
        registered.add(cell);
        return cell;
    }

    private void foldEndedThreads() {
        assert Thread.holdsLock(this);
        for (Iterator<Cell> it = registered.iterator(); it.hasNext(); ) {
            Cell cell = it.next();
            if (cell.ownerEnded()) {
                for (int counter = 0; counter < counters; counter++) {
                    retired[counter] += cell.get(counter);
                }
                it.remove();
            }
        }
    }

    /** The sum of one counter over every thread. */
    public synchronized long sum(int counter) {
        long sum = retired[counter];
        for (Cell cell : registered) {
            sum += cell.get(counter);
        }
        return sum;
    }

    /** The sums of counters {@code from} (inclusive) to {@code to} (exclusive). */
    public synchronized long[] sums(int from, int to) {
        long[] sums = new long[to - from];
        for (int counter = from; counter < to; counter++) {
            sums[counter - from] = retired[counter];
        }
        for (Cell cell : registered) {
            for (int counter = from; counter < to; counter++) {
                sums[counter - from] += cell.get(counter);
            }
        }
        return sums;
    }

    /** Cells registered now (for tests: folding keeps this near the number of live threads). */
    public synchronized int cellCount() {
        return registered.size();
    }
}
