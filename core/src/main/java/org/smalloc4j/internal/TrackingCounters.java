package org.smalloc4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The counters of a tracking allocator, kept so that counting changes no shared word: each thread
 * counts into its own {@link Cell} (opaque stores, a plain move on x86-64 and AArch64), and readers
 * sum the cells. {@link java.util.concurrent.atomic.LongAdder} would not do here: while it meets no
 * contention it adds with a compare-and-set on one shared word, a locked instruction per add.
 *
 * <p><b>Exactness.</b> Every count is counted exactly once. A sum taken while threads count holds
 * each cell's value at some moment during the sum; once the counting calls have returned it is exact.
 *
 * <p><b>Live and peak bytes without a shared word per call</b> ({@link #liveGrew}, {@link #liveShrank}).
 * A cell's live bytes are its allocated less its freed bytes (negative when its thread frees blocks
 * that others allocated); live bytes are the sum over cells, exact as the other sums are. For the
 * peak, each cell publishes its live bytes into one shared word, {@code published}, in batches: it
 * keeps its unpublished part in {@code [0, PUBLISH_BATCH]}, and when a change takes it out of that
 * range, one atomic add brings it back to {@code PUBLISH_BATCH / 2}. Each growth then compares
 * {@code published + its own unpublished part} with the peak (two loads) and raises the peak by
 * compare-and-set only when it is higher. As every unpublished part is at least 0, that candidate
 * never exceeds the live bytes; as each is at most {@code PUBLISH_BATCH}, it falls short of them by
 * at most {@code PUBLISH_BATCH} per other cell. With one cell the peak is exact.
 *
 * <pre>
 *   live bytes = published + sum over cells of unpublished,  0 &lt;= unpublished &lt;= PUBLISH_BATCH
 *   candidate of cell c = published + unpublished(c)          (checked on each growth of c)
 * </pre>
 *
 * <p><b>Finding the cell.</b> {@link #cell()} looks in a small cache indexed by thread id and checks
 * the owner: one field load and three dependent loads, where {@link ThreadLocal#get()} walks thread,
 * map, table, entry, referent and value. A thread whose slot another live thread holds (ids equal
 * modulo the cache size) finds its cell through a {@link ThreadLocal}, which holds every thread's cell.
 *
 * <p><b>Threads that end.</b> A cell stays registered until its thread has ended; then it is
 * <em>folded</em>: its counts go into a retired total and its unpublished bytes into
 * {@code published} (a thread's last writes happen-before another thread sees it dead), and the cell
 * is dropped. Folding runs on every read of the figures and whenever the number of cells has doubled
 * since the last fold, so many short-lived (say virtual) threads cost memory in proportion to those
 * alive.
 */
public final class TrackingCounters {

    /** Classes of the histogram: class k holds sizes in (2^(k-1), 2^k]; 64 covers every long size. */
    public static final int SIZE_CLASSES = 64;
    /**
     * Live bytes a cell may keep unpublished (a chosen figure): the peak falls short by at most this
     * much per other thread, and alloc/free pairs of blocks up to half of it never publish.
     */
    public static final long PUBLISH_BATCH = 64 * 1024;
    /** Cells registered before the first fold at registration: folding is a walk over all cells. */
    private static final int FIRST_FOLD = 64;
    /**
     * Slots of the cell cache, indexed by thread id: thread ids are handed out in sequence, so up to
     * this many threads started together never share a slot (a power of two).
     */
    private static final int CACHED_CELLS = 256;

    // what a cell counts
    public static final int ALLOCATIONS = 0;
    public static final int FREES = 1;
    public static final int REALLOCS = 2;
    public static final int FAILURES = 3;
    public static final int ALLOCATED_BYTES = 4;
    public static final int FREED_BYTES = 5;
    public static final int HISTOGRAM = 6;
    private static final int COUNTERS = HISTOGRAM + SIZE_CLASSES;     // 70

    /** Where an unpublished part returns after a batch is published: room to move either way. */
    private static final long UNPUBLISHED_AFTER_PUBLISH = PUBLISH_BATCH / 2;   // 32 KiB

    /*
     * published and peak, which every thread reads on each growth, sit in the middle of their own
     * array: at least 64 bytes from either end (long[] header 16 B, element i at 16 + 8i: elements 8
     * and 9 at 80 and 88, array end at 160), so no cell or other hot write shares their cache line.
     */
    private static final int PUBLISHED = 8;
    private static final int PEAK = 9;
    private static final int SHARED_LONGS = 18;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /**
     * The counts of one thread. Only that thread changes them, with opaque stores to named fields
     * (no index range checks, unlike an array of counters); anyone reads them opaque.
     */
    public static final class Cell {
        private static final VarHandle ALLOCATIONS_FIELD = field("allocations");
        private static final VarHandle FREES_FIELD = field("frees");
        private static final VarHandle REALLOCS_FIELD = field("reallocs");
        private static final VarHandle FAILURES_FIELD = field("failures");
        private static final VarHandle ALLOCATED_BYTES_FIELD = field("allocatedBytes");
        private static final VarHandle FREED_BYTES_FIELD = field("freedBytes");

        private long allocations;
        private long frees;
        private long reallocs;
        private long failures;
        private long allocatedBytes;
        private long freedBytes;
        private final long[] histogram = new long[SIZE_CLASSES];
        private final Thread owner;
        /** The part of this cell's live bytes added to {@code published}; owner only, until it ends. */
        private long published;
        /**
         * The owner's index in a trace, -1 before its first record; for the trace writer, which
         * reads and sets it under its own lock.
         */
        public int traceThread = -1;

        private Cell(Thread owner) {
            this.owner = owner;
        }

        private static VarHandle field(String name) {
            try {
                return MethodHandles.lookup().findVarHandle(Cell.class, name, long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        // single writer: a plain read of our own value, an opaque store that readers see whole

        private void countAllocation(long byteSize) {
            ALLOCATIONS_FIELD.setOpaque(this, allocations + 1);
            ALLOCATED_BYTES_FIELD.setOpaque(this, allocatedBytes + byteSize);
            countInHistogram(byteSize);
        }

        private void countRealloc(long oldSize, long newSize) {
            REALLOCS_FIELD.setOpaque(this, reallocs + 1);
            FREED_BYTES_FIELD.setOpaque(this, freedBytes + oldSize);
            ALLOCATED_BYTES_FIELD.setOpaque(this, allocatedBytes + newSize);
            countInHistogram(newSize);
        }

        private void countFree(long byteSize) {
            FREES_FIELD.setOpaque(this, frees + 1);
            FREED_BYTES_FIELD.setOpaque(this, freedBytes + byteSize);
        }

        private void countFailure() {
            FAILURES_FIELD.setOpaque(this, failures + 1);
        }

        private void countInHistogram(long byteSize) {
            int sizeClass = sizeClass(byteSize);
            LONGS.setOpaque(histogram, sizeClass, histogram[sizeClass] + 1);
        }

        /** Counter {@code counter} (ALLOCATIONS .. HISTOGRAM + SIZE_CLASSES - 1), read opaque. */
        private long get(int counter) {
            return switch (counter) {
                case ALLOCATIONS -> (long) ALLOCATIONS_FIELD.getOpaque(this);
                case FREES -> (long) FREES_FIELD.getOpaque(this);
                case REALLOCS -> (long) REALLOCS_FIELD.getOpaque(this);
                case FAILURES -> (long) FAILURES_FIELD.getOpaque(this);
                case ALLOCATED_BYTES -> (long) ALLOCATED_BYTES_FIELD.getOpaque(this);
                case FREED_BYTES -> (long) FREED_BYTES_FIELD.getOpaque(this);
                default -> (long) LONGS.getOpaque(histogram, counter - HISTOGRAM);
            };
        }

        /** Live bytes of this cell not yet in {@code published}; for the owner (or after it ended). */
        private long unpublished() {
            return allocatedBytes - freedBytes - published;
        }
    }

    /** Cells by thread id modulo CACHED_CELLS: a slot is taken when empty or its owner has ended. */
    private final Cell[] cache = new Cell[CACHED_CELLS];       // written under this; read racily
    private final ThreadLocal<Cell> cells = ThreadLocal.withInitial(this::register);
    private final long[] shared = new long[SHARED_LONGS];
    private final List<Cell> registered = new ArrayList<>();   // guarded by this
    private final long[] retired = new long[COUNTERS];         // guarded by this
    private int foldAt = FIRST_FOLD;                           // guarded by this

    /** The calling thread's cell, registered on its first call. */
    public Cell cell() {
        Thread thread = Thread.currentThread();
        // a racy read: a cell whose owner is this thread can only be this thread's, as only its
        // owner puts it in a slot and only after the owner ended is it taken out (owner is final)
        Cell cell = cache[slot(thread)];
        return cell != null && cell.owner == thread ? cell : cells.get();
    }

    private static int slot(Thread thread) {
        return (int) thread.threadId() & (CACHED_CELLS - 1);
    }

    private synchronized Cell register() {
        if (registered.size() >= foldAt) {
            foldEndedThreads();
            foldAt = Math.max(FIRST_FOLD, 2 * registered.size());
        }
        Thread thread = Thread.currentThread();
        Cell cell = new Cell(thread);
        registered.add(cell);
        int slot = slot(thread);
        Cell occupant = cache[slot];
        if (occupant == null || !occupant.owner.isAlive()) {
            cache[slot] = cell;
        }
        return cell;
    }

    // ---------------------------------------------------------------- counting (the owner of the cell)

    /** Counts a block of {@code byteSize} bytes handed out. */
    public static void countAllocation(Cell cell, long byteSize) {
        cell.countAllocation(byteSize);
    }

    /** Counts a block resized from {@code oldSize} to {@code newSize} bytes. */
    public static void countRealloc(Cell cell, long oldSize, long newSize) {
        cell.countRealloc(oldSize, newSize);
    }

    /** Counts a block of {@code byteSize} bytes given back. */
    public static void countFree(Cell cell, long byteSize) {
        cell.countFree(byteSize);
    }

    /** Counts a request that got nothing. */
    public static void countFailure(Cell cell) {
        cell.countFailure();
    }

    /** The histogram's class of a size: the smallest {@code k} with {@code byteSize <= 2^k}. */
    public static int sizeClass(long byteSize) {
        return Long.SIZE - Long.numberOfLeadingZeros(Math.max(byteSize, 1) - 1);
    }

    /**
     * After {@code cell}'s live bytes grew (counted by the calls above): publishes a batch if one is
     * due, and raises the peak if live bytes as this thread sees them are a new high. In the common
     * case two loads and a compare; a locked instruction only to publish or to raise the peak.
     */
    public void liveGrew(Cell cell) {
        long unpublished = cell.unpublished();
        if (unpublished > PUBLISH_BATCH) {
            unpublished = publish(cell, unpublished);
        }
        // a volatile read (a plain load on x86-64) so that it sees every batch published before it
        long candidate = (long) LONGS.getVolatile(shared, PUBLISHED) + unpublished;
        if (candidate > (long) LONGS.getOpaque(shared, PEAK)) {
            raisePeak(candidate);
        }
    }

    /** After {@code cell}'s live bytes shrank: publishes if its unpublished part fell below 0. */
    public void liveShrank(Cell cell) {
        long unpublished = cell.unpublished();
        if (unpublished < 0) {
            publish(cell, unpublished);
        }
    }

    /** Moves all but {@link #UNPUBLISHED_AFTER_PUBLISH} of the unpublished bytes to {@code published}. */
    private long publish(Cell cell, long unpublished) {
        long batch = unpublished - UNPUBLISHED_AFTER_PUBLISH;
        LONGS.getAndAdd(shared, PUBLISHED, batch);
        cell.published += batch;
        return UNPUBLISHED_AFTER_PUBLISH;
    }

    private void raisePeak(long candidate) {
        // the opaque read may be stale, but only ever lower than the peak: then the CAS decides
        for (long peak = (long) LONGS.getOpaque(shared, PEAK); candidate > peak; ) {
            long witness = (long) LONGS.compareAndExchange(shared, PEAK, peak, candidate);
            if (witness == peak) {
                return;
            }
            peak = witness;
        }
    }

    // ---------------------------------------------------------------- reading (any thread)

    /** The sum of one counter over every thread. */
    public synchronized long sum(int counter) {
        foldEndedThreads();
        long sum = retired[counter];
        for (Cell cell : registered) {
            sum += cell.get(counter);
        }
        return sum;
    }

    /** The histogram summed over every thread: element k counts blocks of class k. */
    public synchronized long[] histogram() {
        foldEndedThreads();
        long[] sums = new long[SIZE_CLASSES];
        for (int k = 0; k < SIZE_CLASSES; k++) {
            sums[k] = retired[HISTOGRAM + k];
        }
        for (Cell cell : registered) {
            for (int k = 0; k < SIZE_CLASSES; k++) {
                sums[k] += cell.get(HISTOGRAM + k);
            }
        }
        return sums;
    }

    /** Allocated less freed bytes over every thread: the live bytes, for callers of {@link #liveGrew}. */
    public synchronized long liveBytes() {
        foldEndedThreads();
        long live = retired[ALLOCATED_BYTES] - retired[FREED_BYTES];
        for (Cell cell : registered) {
            live += cell.get(ALLOCATED_BYTES) - cell.get(FREED_BYTES);
        }
        return live;
    }

    /** The highest candidate {@link #liveGrew} saw (see the class comment for its bounds). */
    public long peakBytes() {
        return (long) LONGS.getVolatile(shared, PEAK);
    }

    /** Cells registered now (for tests: folding keeps this near the number of live threads). */
    public synchronized int cellCount() {
        return registered.size();
    }

    private void foldEndedThreads() {
        assert Thread.holdsLock(this);
        for (Iterator<Cell> it = registered.iterator(); it.hasNext(); ) {
            Cell cell = it.next();
            if (!cell.owner.isAlive()) {
                // isAlive() false: the owner's every write happened-before this, so the reads are exact
                for (int counter = 0; counter < COUNTERS; counter++) {
                    retired[counter] += cell.get(counter);
                }
                LONGS.getAndAdd(shared, PUBLISHED, cell.unpublished());
                it.remove();
                int slot = slot(cell.owner);
                if (cache[slot] == cell) {
                    cache[slot] = null;
                }
            }
        }
    }
}
