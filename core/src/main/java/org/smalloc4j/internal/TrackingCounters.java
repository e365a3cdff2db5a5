package org.smalloc4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The counters of a tracking allocator, kept so that counting changes no shared word: each thread
 * counts into its own <em>cell</em>, a {@code long[]} that only it writes, and readers sum the
 * cells. {@link java.util.concurrent.atomic.LongAdder} would not do here: while it meets no contention
 * it adds with a compare-and-set on one shared word, a locked instruction per add.
 *
 * <p><b>Plain stores.</b> The owner updates its cell with plain loads and stores; readers load with
 * opaque reads. Opaque stores cost the same instruction on x86-64 and AArch64, but the JIT fences its
 * own reordering around each one, and the counters-only alloc/free pair took about 2 ns more with
 * them (JMH, in the same run). What readers get: HotSpot writes a {@code long} whole on the 64-bit
 * platforms it runs on (JLS 17.7 lets a JVM split it; HotSpot does not), and in practice the JIT
 * stores each count on every call (a load, an add and a store of one array element; it does not
 * keep array elements in registers from one call to the next), so a sum read while threads count holds values each of which its thread stored at
 * some recent moment. Once the counting threads' calls happen-before the read (the threads were
 * joined, an executor's tasks completed, a lock was passed), every sum is exact.
 *
 * <p><b>Exactness.</b> Every count is counted exactly once. The number of allocations is not counted
 * on its own: it is the histogram's total less the reallocs (the histogram counts every block handed
 * out, by an allocation or a realloc), one store fewer per allocation.
 *
 * <p><b>Live and peak bytes without a shared word per call</b> ({@link #allocated}, {@link #freed}).
 * A cell's live bytes are its allocated less its freed bytes (negative when its thread frees blocks
 * that others allocated); live bytes are the sum over cells, exact as the other sums are. For the
 * peak, each cell publishes its live bytes into one shared word, {@code published}, in batches: it
 * keeps its unpublished part in {@code [0, PUBLISH_BATCH]}, and when a change takes it out of that
 * range, one atomic add brings it back to {@code PUBLISH_BATCH / 2}. A cell's live bytes can make a
 * new peak only when {@code published + its unpublished part} passes the peak; so, whenever it has
 * read both shared words, the cell notes how far its unpublished part may grow before that can
 * happen ({@code peak - published}, at most a batch), as a limit on its own live bytes. A growth then
 * costs one compare with a word of the cell; only past the limit does the thread publish, compare
 * with the peak and raise it (by compare-and-set), and set a new limit.
 *
 * <pre>
 *   live bytes = published + sum over cells of unpublished,  0 &lt;= unpublished &lt;= PUBLISH_BATCH
 *   candidate of cell c = published + unpublished(c)          (checked when c passes its limit)
 *   limit of cell c = c's published part + min(PUBLISH_BATCH, peak - published)   (as c last read them)
 * </pre>
 *
 * <p>The peak so raised never exceeds the live bytes (every unpublished part is at least 0), and
 * falls short of them by at most {@code PUBLISH_BATCH} per thread: a cell's limit is stale only by
 * what other threads published since it was set, and the unpublished part of every cell, this one's
 * included, is at most a batch. With one thread, nothing else moves the shared words, every limit is
 * exact and so is the peak.
 *
 * <p><b>Finding the cell.</b> {@link #cell()} looks in a small cache indexed by thread id and checks
 * the owner's id, which the cell holds: two dependent loads after the thread id, where
 * {@link ThreadLocal#get()} walks thread, map, table, entry, referent and value. Thread ids are never
 * reused, so a cell that holds the calling thread's id is its own. A thread whose slot another live
 * thread holds (ids equal modulo the cache size) finds its cell through a {@link ThreadLocal}, which
 * holds every thread's cell. Each cell has a cache line of padding at either end, so two threads'
 * cells never share a line, wherever the garbage collector moves them.
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
     * much per thread, and alloc/free pairs of blocks up to half of it never publish.
     */
    public static final long PUBLISH_BATCH = 64 * 1024;
    /** Cells registered before the first fold at registration: folding is a walk over all cells. */
    private static final int FIRST_FOLD = 64;
    /**
     * Slots of the cell cache, indexed by thread id: thread ids are handed out in sequence, so up to
     * this many threads started together never share a slot (a power of two).
     */
    private static final int CACHED_CELLS = 256;

    /*
     * A cell: one long[], a cache line of padding (8 longs) at either end, so that two threads' cells
     * never share a line. Those that sum() reads are public, the others are the owner's bookkeeping.
     */
    private static final int PAD = 8;
    /** The owner's thread id, written before the cell is shared. */
    private static final int OWNER_ID = PAD;
    public static final int ALLOCATED_BYTES = PAD + 1;
    public static final int FREED_BYTES = PAD + 2;
    public static final int FREES = PAD + 3;
    public static final int REALLOCS = PAD + 4;
    public static final int FAILURES = PAD + 5;
    /** The part of the cell's live bytes added to {@code published}. */
    private static final int PUBLISHED_PART = PAD + 6;
    /** The cell's live bytes above which the owner publishes and checks the peak (see the class comment). */
    private static final int LIVE_LIMIT = PAD + 7;
    /** The owner's index in a trace, -1 before its first record. */
    private static final int TRACE_THREAD = PAD + 8;
    /**
     * The histogram, counted by {@code Long.numberOfLeadingZeros(byteSize - 1)} (one instruction):
     * {@code cell[BY_LEADING_ZEROS + z]} counts sizes of class {@code 64 - z}, except z = 0, which
     * counts size 0 (class 0, as size 1 at z = 64).
     */
    private static final int BY_LEADING_ZEROS = PAD + 9;
    private static final int CELL_LONGS = BY_LEADING_ZEROS + Long.SIZE + 1 + PAD;

    /** Where an unpublished part returns after a batch is published: room to move either way. */
    private static final long UNPUBLISHED_AFTER_PUBLISH = PUBLISH_BATCH / 2;   // 32 KiB

    /*
     * published and peak, which threads read when they pass their limits, sit in the middle of their
     * own array: at least 64 bytes from either end (long[] header 16 B, element i at 16 + 8i:
     * elements 8 and 9 at 80 and 88, array end at 160), so no cell or other hot write shares their line.
     */
    private static final int PUBLISHED = 8;
    private static final int PEAK = 9;
    private static final int SHARED_LONGS = 18;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /** A registered cell and its owner, whose end lets the cell be folded. */
    private record Registered(Thread owner, long[] cell) { }

    /** Cells by thread id modulo CACHED_CELLS: a slot is taken when empty or its owner has ended. */
    private final long[][] cache = new long[CACHED_CELLS][];   // written under this; read racily
    private final ThreadLocal<long[]> cells = ThreadLocal.withInitial(this::register);
    private final long[] shared = new long[SHARED_LONGS];
    private final List<Registered> registered = new ArrayList<>();   // guarded by this
    private final long[] retired = new long[CELL_LONGS];             // guarded by this
    private int foldAt = FIRST_FOLD;                                 // guarded by this

    /** The calling thread's cell, registered on its first call. */
    public long[] cell() {
        long id = Thread.currentThread().threadId();
        // a racy read: a cell that holds this thread's id is this thread's (ids are never reused, and
        // a cell seen before its id was written holds 0, which no thread has)
        long[] cell = cache[(int) id & (CACHED_CELLS - 1)];
        return cell != null && cell[OWNER_ID] == id ? cell : cells.get();
    }

    private synchronized long[] register() {
        if (registered.size() >= foldAt) {
            foldEndedThreads();
            foldAt = Math.max(FIRST_FOLD, 2 * registered.size());
        }
        Thread thread = Thread.currentThread();
        long[] cell = new long[CELL_LONGS];
        cell[OWNER_ID] = thread.threadId();
        cell[TRACE_THREAD] = -1;
        registered.add(new Registered(thread, cell));
        int slot = (int) thread.threadId() & (CACHED_CELLS - 1);
        long[] occupant = cache[slot];
        if (occupant == null || !ownerAlive(occupant)) {
            cache[slot] = cell;
        }
        return cell;
    }

    private boolean ownerAlive(long[] cell) {
        for (Registered r : registered) {
            if (r.cell() == cell) {
                return r.owner().isAlive();
            }
        }
        return false; // folded: its owner ended
    }

    // ---------------------------------------------------------------- counting (the owner of the cell)

    /*
     * Single writer: plain loads and stores (see the class comment on why not opaque ones). Each
     * method reads a counter once and keeps the value, so that the live-bytes checks need no reload
     * of what was just stored.
     */

    /** Counts a block of {@code byteSize} bytes handed out; for a tracker that keeps live bytes itself. */
    public static void countAllocation(long[] cell, long byteSize) {
        countInHistogram(cell, byteSize);
        cell[ALLOCATED_BYTES] = cell[ALLOCATED_BYTES] + byteSize;
    }

    /** Counts a block resized from {@code oldSize} to {@code newSize} bytes; as {@link #countAllocation}. */
    public static void countRealloc(long[] cell, long oldSize, long newSize) {
        cell[REALLOCS] = cell[REALLOCS] + 1;
        cell[FREED_BYTES] = cell[FREED_BYTES] + oldSize;
        cell[ALLOCATED_BYTES] = cell[ALLOCATED_BYTES] + newSize;
        countInHistogram(cell, newSize);
    }

    /** Counts a block of {@code byteSize} bytes given back; as {@link #countAllocation}. */
    public static void countFree(long[] cell, long byteSize) {
        cell[FREES] = cell[FREES] + 1;
        cell[FREED_BYTES] = cell[FREED_BYTES] + byteSize;
    }

    /** Counts a request that got nothing. */
    public static void countFailure(long[] cell) {
        cell[FAILURES] = cell[FAILURES] + 1;
    }

    private static void countInHistogram(long[] cell, long byteSize) {
        int index = BY_LEADING_ZEROS + Long.numberOfLeadingZeros(byteSize - 1);
        cell[index] = cell[index] + 1;
    }

    /** Element {@code z} of the histogram as counted, summed into class {@code k}'s of {@code classes}. */
    private static void addHistogram(long[] classes, long[] cell, boolean opaque) {
        for (int z = 0; z <= Long.SIZE; z++) {
            int index = BY_LEADING_ZEROS + z;
            classes[z == 0 ? 0 : Long.SIZE - z] += opaque ? (long) LONGS.getOpaque(cell, index) : cell[index];
        }
    }

    /** The histogram's class of a size: the smallest {@code k} with {@code byteSize <= 2^k}. */
    public static int sizeClass(long byteSize) {
        return Long.SIZE - Long.numberOfLeadingZeros(Math.max(byteSize, 1) - 1);
    }

    /** Counts a block of {@code byteSize} bytes handed out, and its live bytes toward the peak. */
    public void allocated(long[] cell, long byteSize) {
        countInHistogram(cell, byteSize);
        long allocatedBytes = cell[ALLOCATED_BYTES] + byteSize;
        cell[ALLOCATED_BYTES] = allocatedBytes;
        if (allocatedBytes - cell[FREED_BYTES] > cell[LIVE_LIMIT]) {
            passedLimit(cell, allocatedBytes - cell[FREED_BYTES]);
        }
    }

    /** Counts a block of {@code byteSize} bytes given back, and its live bytes. */
    public void freed(long[] cell, long byteSize) {
        cell[FREES] = cell[FREES] + 1;
        long freedBytes = cell[FREED_BYTES] + byteSize;
        cell[FREED_BYTES] = freedBytes;
        if (cell[ALLOCATED_BYTES] - freedBytes < cell[PUBLISHED_PART]) {
            fellBelowPublished(cell, cell[ALLOCATED_BYTES] - freedBytes);
        }
    }

    /** Counts a block resized from {@code oldSize} to {@code newSize} bytes, and its live bytes. */
    public void reallocated(long[] cell, long oldSize, long newSize) {
        countRealloc(cell, oldSize, newSize);
        long live = cell[ALLOCATED_BYTES] - cell[FREED_BYTES];
        if (live > cell[LIVE_LIMIT]) {
            passedLimit(cell, live);
        } else if (live < cell[PUBLISHED_PART]) {
            fellBelowPublished(cell, live);
        }
    }

    // the calling thread's cell found by each call: counters only, the tracker's hot path

    /** {@link #allocated(long[], long)} on the calling thread's cell. */
    public void allocated(long byteSize) {
        allocated(cell(), byteSize);
    }

    /** {@link #freed(long[], long)} on the calling thread's cell. */
    public void freed(long byteSize) {
        freed(cell(), byteSize);
    }

    /** {@link #countFailure} on the calling thread's cell. */
    public void failed() {
        countFailure(cell());
    }

    /**
     * The cell's live bytes passed its limit: publishes a batch if one is due, raises the peak if
     * live bytes as this thread sees them are a new high, and sets the next limit.
     */
    private void passedLimit(long[] cell, long live) {
        long unpublished = live - cell[PUBLISHED_PART];
        if (unpublished > PUBLISH_BATCH) {
            unpublished = publish(cell, unpublished);
        }
        // a volatile read (a plain load on x86-64) so that it sees every batch published before it
        long published = (long) LONGS.getVolatile(shared, PUBLISHED);
        long peak = raisePeak(published + unpublished);
        setLimit(cell, published, peak);
    }

    /** The cell's live bytes fell below its published part: publishes the difference and more. */
    private void fellBelowPublished(long[] cell, long live) {
        publish(cell, live - cell[PUBLISHED_PART]);
        setLimit(cell, (long) LONGS.getVolatile(shared, PUBLISHED), (long) LONGS.getVolatile(shared, PEAK));
    }

    /** Until its unpublished part passes {@code peak - published} (at most a batch) the cell makes no new peak. */
    private static void setLimit(long[] cell, long published, long peak) {
        cell[LIVE_LIMIT] = cell[PUBLISHED_PART] + Math.min(PUBLISH_BATCH, peak - published);
    }

    /** Moves all but {@link #UNPUBLISHED_AFTER_PUBLISH} of the unpublished bytes to {@code published}. */
    private long publish(long[] cell, long unpublished) {
        long batch = unpublished - UNPUBLISHED_AFTER_PUBLISH;
        LONGS.getAndAdd(shared, PUBLISHED, batch);
        cell[PUBLISHED_PART] += batch;
        return UNPUBLISHED_AFTER_PUBLISH;
    }

    /** Raises the peak to {@code candidate} if that is higher; returns the peak after. */
    private long raisePeak(long candidate) {
        // the opaque read may be stale, but only ever lower than the peak: then the CAS decides
        long peak = (long) LONGS.getOpaque(shared, PEAK);
        while (candidate > peak) {
            long witness = (long) LONGS.compareAndExchange(shared, PEAK, peak, candidate);
            if (witness == peak) {
                return candidate;
            }
            peak = witness;
        }
        return peak;
    }

    // ---------------------------------------------------------------- the trace writer's index

    /** The owner's index in a trace, -1 before its first record; for the trace writer, under its lock. */
    public static int traceThread(long[] cell) {
        return (int) cell[TRACE_THREAD];
    }

    /** Sets what {@link #traceThread} answers; under the trace writer's lock, on the owner's thread. */
    public static void setTraceThread(long[] cell, int index) {
        cell[TRACE_THREAD] = index;
    }

    // ---------------------------------------------------------------- reading (any thread)

    /** The sum of a counter ({@link #ALLOCATED_BYTES} .. {@link #FAILURES}) over every thread. */
    public synchronized long sum(int counter) {
        foldEndedThreads();
        long sum = retired[counter];
        for (Registered r : registered) {
            sum += (long) LONGS.getOpaque(r.cell(), counter);
        }
        return sum;
    }

    /** Blocks handed out by an allocation: the histogram's total less the reallocs. */
    public synchronized long allocations() {
        long handedOut = 0;
        for (long count : histogram()) {
            handedOut += count;
        }
        return handedOut - sum(REALLOCS);
    }

    /** The histogram summed over every thread: element k counts blocks of class k. */
    public synchronized long[] histogram() {
        foldEndedThreads();
        long[] sums = new long[SIZE_CLASSES];
        addHistogram(sums, retired, false);
        for (Registered r : registered) {
            addHistogram(sums, r.cell(), true);
        }
        return sums;
    }

    /** Allocated less freed bytes over every thread: the live bytes, for callers of {@link #allocated}. */
    public synchronized long liveBytes() {
        return sum(ALLOCATED_BYTES) - sum(FREED_BYTES);
    }

    /** The highest candidate the threads saw (see the class comment for its bounds). */
    public long peakBytes() {
        return (long) LONGS.getVolatile(shared, PEAK);
    }

    /** Cells registered now (for tests: folding keeps this near the number of live threads). */
    public synchronized int cellCount() {
        return registered.size();
    }

    private void foldEndedThreads() {
        assert Thread.holdsLock(this);
        boolean folded = false;
        for (Iterator<Registered> it = registered.iterator(); it.hasNext(); ) {
            Registered r = it.next();
            if (!r.owner().isAlive()) {
                // isAlive() false: the owner's every write happened-before this, so the reads are exact
                long[] cell = r.cell();
                for (int counter = ALLOCATED_BYTES; counter <= FAILURES; counter++) {
                    retired[counter] += cell[counter];
                }
                for (int k = BY_LEADING_ZEROS; k <= BY_LEADING_ZEROS + Long.SIZE; k++) {
                    retired[k] += cell[k];
                }
                LONGS.getAndAdd(shared, PUBLISHED, cell[ALLOCATED_BYTES] - cell[FREED_BYTES] - cell[PUBLISHED_PART]);
                folded = true;
                it.remove();
                int slot = (int) cell[OWNER_ID] & (CACHED_CELLS - 1);
                if (cache[slot] == cell) {
                    cache[slot] = null;
                }
            }
        }
        if (folded) {
            // every remaining cell's unpublished part is at least 0: published alone was live bytes
            raisePeak((long) LONGS.getVolatile(shared, PUBLISHED));
        }
    }
}
