package org.smalloc4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.smalloc4j.internal.AllocatorArena;
import org.smalloc4j.internal.Checks;
import org.smalloc4j.internal.TraceWriter;
import org.smalloc4j.internal.TrackingCounters;

import static org.smalloc4j.internal.TrackingCounters.countAllocation;
import static org.smalloc4j.internal.TrackingCounters.countFailure;
import static org.smalloc4j.internal.TrackingCounters.countFree;
import static org.smalloc4j.internal.TrackingCounters.countRealloc;

/**
 * A decorator that counts what passes through it to another allocator: bytes and calls allocated
 * and freed, live and peak bytes, a histogram of sizes; and, when asked, enforces a byte limit,
 * remembers where each live block was allocated (a leak report), and records every operation to a
 * trace file that tools replay ({@link TraceReader} describes the format).
 *
 * <pre>{@code
 * TrackingAllocator tracking = TrackingAllocator.of(Smalloc.global());          // counters only
 * TrackingAllocator debugging = TrackingAllocator.builder(Smalloc.global())
 *         .byteLimit(64 << 20).recordStacks(true).traceTo(Path.of("app.trace")).build();
 * }</pre>
 *
 * <p><b>What counts.</b> Sizes are those the callers asked for, not what the inner allocator rounded
 * them to. {@code alloc}, {@code allocZeroed} (and {@code allocate}, and every arena allocation) add
 * one allocation; {@code dealloc} (and {@code free}) one free; a {@code realloc} of a block counts
 * one realloc, its old size as freed and its new size as allocated, and a {@code realloc} of address
 * 0 counts as an allocation. So {@code liveBytes() == allocatedBytes() - freedBytes()}, and the live
 * blocks number {@code allocationCount() - freeCount()}. A request that gets nothing (the inner
 * allocator returned 0, or the byte limit was reached) counts one failure and nothing else. A
 * rejected call ({@link IllegalArgumentException}, or an exception of the inner allocator) changes
 * no figure. The {@linkplain #histogram() histogram} counts every block handed out (an allocation,
 * or the new size of a realloc) by power-of-two size class.
 *
 * <p><b>Exactness under threads.</b> Every figure counts every operation exactly once. The counters
 * are per thread and summed when read: read while other threads allocate, each is exact for some
 * moment during the read, but two of them need not be for the same moment (as with
 * {@link java.util.concurrent.atomic.LongAdder}); read when the threads' calls happen-before the read
 * (joined threads, completed tasks), all are exact. Counters only, live bytes are such a sum too,
 * and the peak is exact when one thread counts and within {@link #PEAK_BATCH_BYTES} (64 KiB) per
 * thread below the true peak on several (see {@link #peakBytes()}). With a byte limit or recording, live and peak bytes are one shared counter,
 * and the peak is the exact maximum of live bytes over the order in which operations took effect.
 *
 * <p><b>Byte limit.</b> An allocation or growing realloc that would take live bytes above the limit
 * fails as exhaustion does: the raw layer returns 0, the FFM layer throws {@link OutOfMemoryError}
 * naming this allocator ({@code "tracking:smalloc"}) and the size. The bytes are reserved before the
 * inner allocator is asked, so concurrent allocations never overshoot the limit; when several
 * threads allocate near the limit at once, the peak may include a reservation that the inner
 * allocator then could not meet.
 *
 * <p><b>Recording</b> ({@link Builder#recordStacks} or {@link Builder#traceTo}). The tracker then
 * knows every live block it handed out: {@code dealloc} or {@code realloc} of an address it did not
 * hand out, or with a size other than the block's, is {@link IllegalArgumentException} naming the
 * address, before the inner allocator sees it (even over libc, which cannot tell). With stacks, each
 * block remembers the stack of its allocation ({@link #leakReport()}, {@link #liveBlocks()}); a
 * realloc keeps the stack of the original allocation. With a trace, each operation is one record,
 * written in the order the operations took effect; replaying the trace gives the same live and peak
 * bytes. A block freed straight through the inner allocator, behind the tracker's back, is counted
 * (and recorded) as freed when the inner allocator hands its address out again.
 *
 * <p><b>Costs.</b> Counters only: per call, finding the calling thread's cell (a cache slot picked
 * by thread id and checked by owner; a {@link ThreadLocal} for a thread whose slot another live
 * thread holds), plain stores to its counters and a compare with a limit of its own on live bytes.
 * No word that other threads write is changed, so there is no locked instruction and no cache line
 * moving between cores; the shared words (the published live bytes and the peak) are read only when
 * a thread's live bytes pass its limit. Locked instructions come
 * only when a thread's unpublished live bytes leave {@code [0, PEAK_BATCH_BYTES]} (64 KiB)
 * (one atomic add; alloc/free pairs of blocks up to half that never get there, larger blocks take
 * one each way), and when an allocation sets a new peak (a compare-and-set: on each allocation while
 * live bytes climb to a new high, none in a steady state). Nothing is allocated on the Java heap but
 * one cell per thread. The cost moves to reading: each figure (but the peak) is a walk, under a lock,
 * over the cells of the threads that have used the tracker. With a byte limit: the limit needs one global reservation, so every
 * allocation adds to one shared live-bytes word with a compare-and-set loop and every free
 * subtracts with an atomic add: two locked instructions per alloc/free pair, and that cache line
 * moves between the cores of the threads that allocate. Recording: every operation, including the
 * inner allocator's call, runs under one lock (that is what makes the trace order exact), allocates a
 * small record per live block, and with stacks walks the stack (32 frames at most) of every
 * allocation: several microseconds each.
 *
 * <p><b>Closing.</b> {@link #close()} leaves the inner allocator open, closes the trace file, and
 * from then on every allocator method but {@code close()} throws {@link IllegalStateException}.
 * Segments handed out before keep the inner allocator's scope, so they stay usable (the blocks stay
 * allocated in the inner allocator). The figures, {@link #leakReport()} and {@link #liveBlocks()}
 * still answer, frozen at close. Blocks of an arena of this tracker that closes after the tracker go
 * straight back to the inner allocator, uncounted. An arena of a tracker holds an arena of the inner
 * allocator, so a closable inner heap closed first stays mapped until the tracker's arena closes. The
 * trackers that {@link Allocators}
 * makes are process-wide: their {@code close()} does nothing, and their trace is closed when the JVM
 * exits.
 */
public final class TrackingAllocator implements NativeAllocator {

    /** Classes of the {@linkplain #histogram() histogram}: class k holds sizes in (2^(k-1), 2^k]. */
    public static final int SIZE_CLASSES = TrackingCounters.SIZE_CLASSES;
    /**
     * Live bytes each thread may hold back from the shared total that the {@linkplain #peakBytes() peak}
     * of a counters-only tracker is checked against: its shortfall is at most this much per thread.
     */
    public static final long PEAK_BATCH_BYTES = TrackingCounters.PUBLISH_BATCH;
    /** The {@linkplain Builder#byteLimit byte limit} that means none. */
    public static final long NO_LIMIT = Long.MAX_VALUE;
    /** Stack frames kept per live block: enough to reach the caller through a few layers of libraries. */
    public static final int MAX_STACK_FRAMES = 32;

    /*
     * Exact live and peak bytes, for a tracker with a limit or recording (counters only keeps none: see
     * TrackingCounters), sit in the middle of their own array: at least 64 bytes from either end
     * (long[] header 16 B, element i at 16 + 8i: elements 8 and 9 at 80 and 88, array end at 160), so
     * they share a cache line with nothing that is read on every call.
     */
    private static final int LIVE = 8;
    private static final int PEAK = 9;
    private static final int SHARED_LONGS = 18;
    private static final VarHandle SHARED = MethodHandles.arrayElementVarHandle(long[].class);

    // what allocRecording asks the inner allocator for
    private static final int PLAIN = 0;
    private static final int ZEROED = 1;
    private static final int REALLOC_OF_NULL = 2;

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private final NativeAllocator inner;
    private final String name;
    private final long byteLimit;
    private final boolean recordStacks;
    private final boolean processWide;
    /** Counters only, no limit: the path small enough for the JIT to inline into the caller. */
    private final boolean countingOnly;
    private final TrackingCounters counters = new TrackingCounters();
    private final long[] shared = new long[SHARED_LONGS];
    /** Live blocks by address while recording, else null; the recording lock is this map. */
    private final Map<Long, Block> blocks;
    private final TraceWriter trace;        // guarded by blocks; null without a trace
    private long nextBlockId;               // guarded by blocks
    /*
     * Plain, as in Smalloc: a volatile read on every call would cost more than the rest of the
     * counting. A thread racing with close() may complete one more counted call; while recording,
     * the flag is read under the lock that close() takes, and is exact.
     */
    private boolean closed;
    /** countingOnly and not closed: the one flag the counters-only path reads (plain, as closed). */
    private boolean countingAndOpen;

    /** A live block, while recording. */
    private record Block(long id, long byteSize, long byteAlignment, String threadName,
                         List<StackWalker.StackFrame> stack) {
        Block resized(long newSize, long newAlignment) {
            return new Block(id, newSize, newAlignment, threadName, stack);
        }
    }

    private TrackingAllocator(Builder b, TraceWriter trace) {
        this.inner = b.inner;
        this.name = "tracking:" + b.inner.name();
        this.byteLimit = b.byteLimit;
        this.recordStacks = b.recordStacks;
        this.processWide = b.processWide;
        this.trace = trace;
        this.blocks = b.recordStacks || trace != null ? new HashMap<>() : null;
        this.countingOnly = blocks == null && byteLimit == NO_LIMIT && !b.exactPeak;
        this.countingAndOpen = countingOnly;
    }

    /** A tracker with counters only (no limit, no stacks, no trace) over {@code inner}. */
    public static TrackingAllocator of(NativeAllocator inner) {
        return builder(inner).build();
    }

    /** A builder of a tracker over {@code inner}; by default counters only. */
    public static Builder builder(NativeAllocator inner) {
        return new Builder(inner);
    }

    // ---------------------------------------------------------------- raw layer

    /*
     * alloc and allocZeroed each call their own inner method, with counting in one small method: a
     * shared method calling both grows, once compiled, too big for the JIT to inline into callers.
     */

    @Override
    public long alloc(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        return countingAndOpen ? counted(inner.alloc(byteSize, byteAlignment), byteSize)
                : allocExact(byteSize, byteAlignment, false);
    }

    @Override
    public long allocZeroed(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        return countingAndOpen ? counted(inner.allocZeroed(byteSize, byteAlignment), byteSize)
                : allocExact(byteSize, byteAlignment, true);
    }

    /** With a limit or recording: exact live bytes; or closed. */
    private long allocExact(long byteSize, long byteAlignment, boolean zeroed) {
        checkOpen();
        return blocks != null
                ? allocRecording(zeroed ? ZEROED : PLAIN, 0, byteSize, byteAlignment)
                : allocLimited(byteSize, byteAlignment, zeroed);
    }

    @Override
    public void dealloc(long address, long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (!countingAndOpen) {
            deallocExact(address, byteSize, byteAlignment);
        } else if (address != 0) {
            inner.dealloc(address, byteSize, byteAlignment); // first: if it rejects the address, nothing was counted
            counters.freed(byteSize);
        }
    }

    /** With a limit or recording: exact live bytes; or closed. */
    private void deallocExact(long address, long byteSize, long byteAlignment) {
        checkOpen(); // before the NULL test: a closed tracker refuses every call
        if (address == 0) {
            return;
        }
        if (blocks != null) {
            deallocRecording(address, byteSize, byteAlignment);
            return;
        }
        inner.dealloc(address, byteSize, byteAlignment); // first: if it rejects the address, nothing was counted
        countFree(counters.cell(), byteSize);
        SHARED.getAndAdd(shared, LIVE, -byteSize);
    }

    /** {@inheritDoc} The inner allocator's {@code realloc} does the work; this counts it once. */
    @Override
    public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        Checks.checkRealloc(oldSize, byteAlignment, newSize);
        checkOpen();
        if (blocks != null) {
            return address == 0 ? allocRecording(REALLOC_OF_NULL, oldSize, newSize, byteAlignment)
                    : reallocRecording(address, oldSize, byteAlignment, newSize);
        }
        return reallocCounting(address, oldSize, byteAlignment, newSize);
    }

    // ---------------------------------------------------------------- FFM layer

    /** A segment of the inner allocator's scope: this tracker adds none of its own. */
    @Override
    public MemorySegment asSegment(long address, long byteSize) {
        checkOpen();
        return inner.asSegment(address, byteSize);
    }

    /**
     * {@inheritDoc} Its blocks are counted (and recorded) as this tracker's. It also holds an arena of
     * the inner allocator, unused but open, so that a closable inner heap keeps its memory mapped
     * while this arena's segments live (a heap closed meanwhile unmaps when the arena closes).
     */
    @Override
    public Arena newArena() {
        checkOpen();
        Arena innerLifetime = inner.newArena();
        return new AllocatorArena(this, this::giveBackFromArena, innerLifetime::close);
    }

    private void giveBackFromArena(long address, long byteSize, long byteAlignment) {
        try {
            dealloc(address, byteSize, byteAlignment);
        } catch (IllegalStateException closedMeanwhile) {
            if (closed) {
                // figures froze at close; the memory still goes back, unless the inner heap closed too
                try {
                    inner.dealloc(address, byteSize, byteAlignment);
                } catch (IllegalStateException innerClosed) {
                    // the block went with its heap
                }
            }
            // else the inner heap is closed: the block went with it
        }
    }

    /** {@code "tracking:"} followed by the inner allocator's name. */
    @Override
    public String name() {
        return name;
    }

    /** The allocator this one counts for. */
    public NativeAllocator inner() {
        return inner;
    }

    /** The byte limit, {@link #NO_LIMIT} if there is none. */
    public long byteLimit() {
        return byteLimit;
    }

    /** The trace file, if this tracker records one. */
    public Optional<Path> traceFile() {
        return trace == null ? Optional.empty() : Optional.of(trace.file());
    }

    // ---------------------------------------------------------------- counting only

    /** Counts what the inner allocator answered, with counters only (a block, or a failure: 0), and returns it. */
    private long counted(long address, long byteSize) {
        if (address == 0) {
            counters.failed();
            return 0;
        }
        counters.allocated(byteSize);
        return address;
    }

    private long allocLimited(long byteSize, long byteAlignment, boolean zeroed) {
        long[] cell = counters.cell();
        long liveWithThis = reserve(byteSize);
        if (liveWithThis < 0) {
            countFailure(cell);
            return 0;
        }
        long address;
        try {
            address = zeroed ? inner.allocZeroed(byteSize, byteAlignment) : inner.alloc(byteSize, byteAlignment);
        } catch (Throwable t) {
            SHARED.getAndAdd(shared, LIVE, -byteSize);
            throw t;
        }
        if (address == 0) {
            SHARED.getAndAdd(shared, LIVE, -byteSize);
            countFailure(cell);
            return 0;
        }
        countAllocation(cell, byteSize);
        raisePeak(liveWithThis);
        return address;
    }

    private long reallocCounting(long address, long oldSize, long byteAlignment, long newSize) {
        long growth = address == 0 ? newSize : newSize - oldSize; // change of live bytes
        boolean reserving = byteLimit != NO_LIMIT && growth > 0;
        long[] cell = counters.cell();
        long liveWithThis = 0;
        if (reserving) {
            liveWithThis = reserve(growth);
            if (liveWithThis < 0) {
                countFailure(cell);
                return 0;
            }
        }
        long moved;
        try {
            moved = inner.realloc(address, oldSize, byteAlignment, newSize);
        } catch (Throwable t) {
            if (reserving) {
                SHARED.getAndAdd(shared, LIVE, -growth);
            }
            throw t;
        }
        if (moved == 0) {
            if (reserving) {
                SHARED.getAndAdd(shared, LIVE, -growth);
            }
            countFailure(cell);
            return 0;
        }
        if (countingOnly) { // live bytes in the cells
            if (address == 0) {
                counters.allocated(cell, newSize);
            } else {
                counters.reallocated(cell, oldSize, newSize);
            }
            return moved;
        }
        if (address == 0) {
            countAllocation(cell, newSize);
        } else {
            countRealloc(cell, oldSize, newSize);
        }
        if (reserving) {
            raisePeak(liveWithThis);
        } else {
            addLive(growth);
        }
        return moved;
    }

    /** Adds to live bytes and raises the peak if this is a new one. */
    private void addLive(long bytes) {
        long live = (long) SHARED.getAndAdd(shared, LIVE, bytes) + bytes;
        raisePeak(live);
    }

    private void raisePeak(long live) {
        // the opaque read may be stale, but only ever lower than the peak: then the CAS loop decides
        for (long peak = (long) SHARED.getOpaque(shared, PEAK); live > peak; peak = (long) SHARED.getVolatile(shared, PEAK)) {
            if (SHARED.compareAndSet(shared, PEAK, peak, live)) {
                return;
            }
        }
    }

    /** Reserves {@code bytes} under the limit: live bytes with them, or -1 if they do not fit. */
    private long reserve(long bytes) {
        for (;;) {
            long live = (long) SHARED.getVolatile(shared, LIVE);
            if (bytes > byteLimit - live) {
                return -1;
            }
            if (SHARED.compareAndSet(shared, LIVE, live, live + bytes)) {
                return live + bytes;
            }
        }
    }

    // ---------------------------------------------------------------- recording

    private long allocRecording(int kind, long oldSize, long byteSize, long byteAlignment) {
        List<StackWalker.StackFrame> stack = recordStacks ? allocationSite() : null; // slow: outside the lock
        long[] cell = counters.cell();
        synchronized (blocks) {
            checkOpen();
            long address = 0;
            if (byteSize <= byteLimit - liveBytes()) {
                address = switch (kind) {
                    case PLAIN -> inner.alloc(byteSize, byteAlignment);
                    case ZEROED -> inner.allocZeroed(byteSize, byteAlignment);
                    default -> inner.realloc(0, oldSize, byteAlignment, byteSize);
                };
            }
            if (address == 0) {
                countFailure(cell);
                if (trace != null) {
                    trace.failedAlloc(traceThread(cell), byteSize, byteAlignment, kind == ZEROED);
                }
                return 0;
            }
            forgetStale(cell, address);
            blocks.put(address, new Block(nextBlockId++, byteSize, byteAlignment, Thread.currentThread().getName(), stack));
            countAllocation(cell, byteSize);
            addLive(byteSize);
            if (trace != null) {
                trace.alloc(traceThread(cell), byteSize, byteAlignment, kind == ZEROED);
            }
            return address;
        }
    }

    private void deallocRecording(long address, long byteSize, long byteAlignment) {
        long[] cell = counters.cell();
        synchronized (blocks) {
            checkOpen();
            Block block = liveBlock(address, byteSize);
            inner.dealloc(address, byteSize, byteAlignment); // first: if it throws, nothing changed
            blocks.remove(address);
            countFree(cell, byteSize);
            SHARED.getAndAdd(shared, LIVE, -byteSize);
            if (trace != null) {
                trace.free(traceThread(cell), block.id(), byteSize);
            }
        }
    }

    private long reallocRecording(long address, long oldSize, long byteAlignment, long newSize) {
        long[] cell = counters.cell();
        synchronized (blocks) {
            checkOpen();
            Block block = liveBlock(address, oldSize);
            long growth = newSize - oldSize;
            long moved = growth > byteLimit - liveBytes() ? 0 : inner.realloc(address, oldSize, byteAlignment, newSize);
            if (moved == 0) {
                countFailure(cell);
                if (trace != null) {
                    trace.failedRealloc(traceThread(cell), block.id(), oldSize, newSize, byteAlignment);
                }
                return 0;
            }
            blocks.remove(address);
            forgetStale(cell, moved);
            blocks.put(moved, block.resized(newSize, byteAlignment));
            countRealloc(cell, oldSize, newSize);
            addLive(growth);
            if (trace != null) {
                trace.realloc(traceThread(cell), block.id(), oldSize, newSize, byteAlignment);
            }
            return moved;
        }
    }

    /** The live block at {@code address} of {@code byteSize} bytes, or the exception that says why not. */
    private Block liveBlock(long address, long byteSize) {
        assert Thread.holdsLock(blocks);
        Block block = blocks.get(address);
        if (block == null) {
            throw Checks.foreign(name, address, "is not a live block of");
        }
        if (block.byteSize() != byteSize) {
            throw new IllegalArgumentException("address " + Checks.hex(address) + " is a block of " + block.byteSize()
                    + " bytes of heap '" + name + "', not of " + byteSize);
        }
        return block;
    }

    /**
     * The inner allocator handed out {@code address}, which we thought live: the block there was freed
     * behind our back (straight through the inner allocator). Count and record its free now.
     */
    private void forgetStale(long[] cell, long address) {
        Block stale = blocks.remove(address);
        if (stale != null) {
            countFree(cell, stale.byteSize());
            SHARED.getAndAdd(shared, LIVE, -stale.byteSize());
            if (trace != null) {
                trace.free(traceThread(cell), stale.id(), stale.byteSize());
            }
        }
    }

    /** The calling thread's index in the trace, introduced by a THREAD record the first time. */
    private int traceThread(long[] cell) {
        assert Thread.holdsLock(blocks);
        int index = TrackingCounters.traceThread(cell);
        if (index < 0) {
            Thread thread = Thread.currentThread();
            index = trace.newThread(thread.threadId(), thread.getName());
            TrackingCounters.setTraceThread(cell, index);
        }
        return index;
    }

    /** The caller's stack, from the first frame outside the allocator layers. */
    private static List<StackWalker.StackFrame> allocationSite() {
        return WALKER.walk(frames -> frames.dropWhile(TrackingAllocator::insideAllocator)
                .limit(MAX_STACK_FRAMES).toList());
    }

    private static boolean insideAllocator(StackWalker.StackFrame frame) {
        Class<?> type = frame.getDeclaringClass();
        String pkg = type.getPackageName();
        return type.getNestHost() == TrackingAllocator.class || type == NativeAllocator.class
                || type == AllocatorArena.class || pkg.equals("java.lang.foreign") || pkg.equals("jdk.internal.foreign");
    }

    // ---------------------------------------------------------------- figures

    /**
     * Bytes allocated and not yet freed (as requested by callers). With counters only, the sum of the
     * threads' own counts: exact once the counting calls have returned, a moment's view while they run.
     */
    public long liveBytes() {
        return countingOnly ? counters.liveBytes() : (long) SHARED.getVolatile(shared, LIVE);
    }

    /**
     * The most live bytes there have been.
     *
     * <p>With a byte limit or recording: exact, the maximum of live bytes over the order in which
     * operations took effect.
     *
     * <p>With counters only, the threads publish their live bytes in batches: each keeps up to
     * {@link #PEAK_BATCH_BYTES} (64 KiB) unpublished, and checks the peak against its own live bytes
     * plus what all have published when its live bytes pass a limit it set at its last check. With
     * {@code N} threads counted, the peak is
     * <ul>
     * <li>never above the live bytes there were (calls that overlap in time may take effect in
     * either order), and</li>
     * <li>at least the live bytes at any moment when no call was running, less
     * {@code N * PEAK_BATCH_BYTES};</li>
     * </ul>
     * and when only one thread has ever counted, it is exact. {@code N} counts the threads that have
     * called this tracker, less those that had ended when the figures were last read (a read folds
     * an ended thread's counts and bytes into the shared totals).
     */
    public long peakBytes() {
        return countingOnly ? counters.peakBytes() : (long) SHARED.getVolatile(shared, PEAK);
    }

    /** Bytes of every allocation, plus the new size of every realloc. */
    public long allocatedBytes() {
        return counters.sum(TrackingCounters.ALLOCATED_BYTES);
    }

    /** Bytes of every free, plus the old size of every realloc. */
    public long freedBytes() {
        return counters.sum(TrackingCounters.FREED_BYTES);
    }

    /** Blocks handed out by {@code alloc}, {@code allocZeroed} and {@code realloc} of address 0. */
    public long allocationCount() {
        return counters.allocations();
    }

    /** Blocks given back by {@code dealloc} (address 0 not counted). */
    public long freeCount() {
        return counters.sum(TrackingCounters.FREES);
    }

    /** Successful reallocs of a block (not of address 0). */
    public long reallocCount() {
        return counters.sum(TrackingCounters.REALLOCS);
    }

    /** Requests that got nothing: inner allocator exhausted, or byte limit reached. */
    public long failedCount() {
        return counters.sum(TrackingCounters.FAILURES);
    }

    /**
     * Blocks handed out per size class: element {@code k} (of {@value #SIZE_CLASSES}) counts the
     * allocations, and the reallocs by their new size, of {@code 2^(k-1) < byteSize <= 2^k} bytes;
     * element 0 counts sizes 0 and 1. See {@link #sizeClass(long)}.
     *
     * @return a new array
     */
    public long[] histogram() {
        return counters.histogram();
    }

    /** The histogram's class of a size: the smallest {@code k} with {@code byteSize <= 2^k}. */
    public static int sizeClass(long byteSize) {
        return TrackingCounters.sizeClass(byteSize);
    }

    /** Counter cells registered now: for tests that check cells of ended threads are folded. */
    int counterCells() {
        return counters.cellCount();
    }

    /**
     * The live blocks, oldest first, while this tracker records stacks or a trace; an empty list
     * otherwise. Without stacks, each block's stack trace is empty.
     */
    public List<LiveBlock> liveBlocks() {
        if (blocks == null) {
            return List.of();
        }
        List<LiveBlock> live = new ArrayList<>();
        synchronized (blocks) {
            for (Map.Entry<Long, Block> entry : blocks.entrySet()) {
                Block block = entry.getValue();
                live.add(new LiveBlock(block.id(), entry.getKey(), block.byteSize(), block.byteAlignment(),
                        block.threadName(), block.stack() == null ? List.of()
                                : block.stack().stream().map(StackWalker.StackFrame::toStackTraceElement).toList()));
            }
        }
        live.sort(Comparator.comparingLong(LiveBlock::id));
        return live;
    }

    /**
     * A block allocated through this tracker and not yet freed.
     *
     * @param id the block's number: the order of its allocation, and its id in the trace
     * @param address where it is
     * @param byteSize its size as requested
     * @param byteAlignment its alignment as requested
     * @param threadName the name of the thread that allocated it
     * @param stackTrace where it was allocated, the allocating call first; empty unless stacks are recorded
     */
    public record LiveBlock(long id, long address, long byteSize, long byteAlignment, String threadName,
                            List<StackTraceElement> stackTrace) {
        public LiveBlock {
            stackTrace = List.copyOf(stackTrace);
        }
    }

    /**
     * A readable report: the figures, then the live blocks grouped by the stack that allocated them,
     * most bytes first. Call it when every block should have been freed: what it lists are leaks.
     */
    public String leakReport() {
        StringBuilder report = new StringBuilder();
        long liveBlocks = allocationCount() - freeCount();
        report.append(name).append(": ").append(liveBlocks).append(liveBlocks == 1 ? " live block, " : " live blocks, ")
                .append(liveBytes()).append(" bytes (peak ").append(peakBytes()).append(" bytes; ")
                .append(allocationCount()).append(" allocations, ").append(freeCount()).append(" frees, ")
                .append(reallocCount()).append(" reallocs, ").append(failedCount()).append(" failed)\n");
        if (blocks == null) {
            report.append("  live blocks are not listed: build the tracker with recordStacks(true) to see them"
                    + " and where they were allocated\n");
            return report.toString();
        }
        if (!recordStacks) {
            report.append("  (stack traces not recorded: build the tracker with recordStacks(true))\n");
        }
        Map<List<StackTraceElement>, List<LiveBlock>> bySite = new LinkedHashMap<>();
        for (LiveBlock block : liveBlocks()) {
            bySite.computeIfAbsent(block.stackTrace(), site -> new ArrayList<>()).add(block);
        }
        List<List<LiveBlock>> groups = new ArrayList<>(bySite.values());
        groups.sort(Comparator.comparingLong((List<LiveBlock> group) -> bytes(group)).reversed());
        for (List<LiveBlock> group : groups) {
            appendGroup(report, group);
        }
        return report.toString();
    }

    private static long bytes(List<LiveBlock> group) {
        return group.stream().mapToLong(LiveBlock::byteSize).sum();
    }

    private static void appendGroup(StringBuilder report, List<LiveBlock> group) {
        final int shown = 5;
        report.append('\n').append(group.size()).append(group.size() == 1 ? " block, " : " blocks, ")
                .append(bytes(group)).append(" bytes:");
        for (int i = 0; i < Math.min(shown, group.size()); i++) {
            LiveBlock block = group.get(i);
            report.append(i == 0 ? " " : ", ").append('#').append(block.id()).append(" (").append(block.byteSize())
                    .append(" B at ").append(Checks.hex(block.address())).append(", thread \"")
                    .append(block.threadName()).append("\")");
        }
        if (group.size() > shown) {
            report.append(", …");
        }
        report.append('\n');
        List<StackTraceElement> site = group.get(0).stackTrace();
        if (site.isEmpty()) {
            report.append("    (no stack trace)\n");
        }
        for (StackTraceElement frame : site) {
            report.append("    at ").append(frame).append('\n');
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * From now on every allocator method but {@code close()} throws {@link IllegalStateException};
     * the figures stay readable. Closes the trace file (writing its end record). Leaves the inner
     * allocator open. Does nothing the second time, nor on the process-wide trackers of
     * {@link Allocators}.
     *
     * @throws UncheckedIOException if writing the trace failed (now or earlier); the tracker is closed
     *         all the same
     */
    @Override
    public void close() {
        if (processWide) {
            return;
        }
        if (blocks == null) {
            countingAndOpen = false;
            closed = true;
            return;
        }
        synchronized (blocks) {
            if (closed) {
                return;
            }
            closed = true;
            closeTrace();
        }
    }

    /** Ends the trace (the tracker keeps counting): at close, or at JVM exit for a process-wide tracker. */
    void closeTrace() {
        if (trace == null) {
            return;
        }
        synchronized (blocks) {
            try {
                trace.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw Checks.closed(name);
        }
    }

    /** The name and the main figures on one line. */
    @Override
    public String toString() {
        return "TrackingAllocator[" + name + ", live " + liveBytes() + " B, peak " + peakBytes() + " B, "
                + allocationCount() + " allocations, " + freeCount() + " frees, " + reallocCount() + " reallocs, "
                + failedCount() + " failed" + (byteLimit == NO_LIMIT ? "" : ", limit " + byteLimit + " B")
                + (closed ? ", closed" : "") + "]";
    }

    /** Settings of a tracker. */
    public static final class Builder {
        private final NativeAllocator inner;
        private long byteLimit = NO_LIMIT;
        private boolean recordStacks;
        private Path traceFile;
        private boolean processWide;
        private boolean exactPeak;

        private Builder(NativeAllocator inner) {
            this.inner = Objects.requireNonNull(inner, "inner");
        }

        /**
         * Allocations that would take live bytes above {@code byteLimit} fail as exhaustion does
         * (default {@link #NO_LIMIT}).
         *
         * @throws IllegalArgumentException if {@code byteLimit} is negative
         */
        public Builder byteLimit(long byteLimit) {
            if (byteLimit < 0) {
                throw new IllegalArgumentException("byteLimit " + byteLimit + " is negative");
            }
            this.byteLimit = byteLimit;
            return this;
        }

        /**
         * Keep live and peak bytes exact under any number of threads, in one shared word changed by
         * every call (two locked instructions per alloc/free pair), as a byte limit or recording does
         * anyway (default false: per-thread counters, the peak exact on one thread and at most
         * {@link #PEAK_BATCH_BYTES} per thread below the true one).
         */
        public Builder exactPeak(boolean exactPeak) {
            this.exactPeak = exactPeak;
            return this;
        }

        /** Remember the stack of each live block's allocation, for {@link #leakReport()} (default false). */
        public Builder recordStacks(boolean recordStacks) {
            this.recordStacks = recordStacks;
            return this;
        }

        /**
         * Record every operation to {@code file} (created, or truncated if it exists), in the format
         * {@link TraceReader} reads. The file is complete once the tracker is closed.
         */
        public Builder traceTo(Path file) {
            this.traceFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /** For {@link Allocators}: close() does nothing; the trace ends by {@link #closeTrace()}. */
        Builder processWide() {
            this.processWide = true;
            return this;
        }

        /**
         * The tracker.
         *
         * @throws UncheckedIOException if the trace file cannot be created
         */
        public TrackingAllocator build() {
            TraceWriter trace = null;
            if (traceFile != null) {
                try {
                    trace = TraceWriter.open(traceFile, "tracking:" + inner.name());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot create the trace file " + traceFile + ": " + e.getMessage(), e);
                }
            }
            return new TrackingAllocator(this, trace);
        }
    }
}
