package org.smalloc4j.tools.replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import org.smalloc4j.TraceEvent;
import org.smalloc4j.TraceReader;

/**
 * A trace read into memory and checked, ready to replay: the operations that change blocks
 * (alloc, allocZeroed, realloc, free) in trace order, as flat arrays, so that replaying reads no file
 * and allocates nothing on the Java heap. About 18 bytes per operation.
 *
 * <p>Loading checks what a faithful replay relies on, and names the file and the byte offset of the
 * first record that breaks it: a free or realloc of a block that is not live, or with a size other
 * than the block's, an unknown record, a trace cut short (no {@code END} record; accepted only when
 * asked for). {@code FAILED} records changed no block and are skipped (and counted); thread records
 * are counted; times are not kept: the replay runs as fast as it can.
 */
public final class ReplayTrace {

    /** Operation codes of {@link #op(int)}: the trace format's own numbers. */
    static final byte ALLOC = 1;
    static final byte ALLOC_ZEROED = 2;
    static final byte FREE = 3;
    static final byte REALLOC = 4;

    /** Block ids index Java arrays. */
    private static final long MAX_BLOCKS = Integer.MAX_VALUE - 16;

    private final Path file;
    private final String tracedAllocator;
    private final boolean complete;
    private final int operations;
    private final byte[] ops;
    private final int[] blocks;
    private final long[] sizes;      // the new size of an alloc or realloc, the size freed by a free
    private final byte[] alignments; // log2, for allocs and reallocs
    private final int[] threadOf;    // the recorded thread's index
    private final int blockCount;
    private final int threads;
    private final long failedRecords;
    private final long peakLiveBytes;
    private final int peakLiveOp;
    private final long endLiveBytes;

    private ReplayTrace(Loader loader) {
        this.file = loader.file;
        this.tracedAllocator = loader.tracedAllocator;
        this.complete = loader.complete;
        this.operations = loader.count;
        this.ops = Arrays.copyOf(loader.ops, loader.count);
        this.blocks = Arrays.copyOf(loader.blocks, loader.count);
        this.sizes = Arrays.copyOf(loader.sizes, loader.count);
        this.alignments = Arrays.copyOf(loader.alignments, loader.count);
        this.threadOf = Arrays.copyOf(loader.threadOf, loader.count);
        this.blockCount = loader.blockCount;
        this.threads = loader.threads;
        this.failedRecords = loader.failed;
        this.peakLiveBytes = loader.peak;
        this.peakLiveOp = loader.peakOp;
        this.endLiveBytes = loader.live;
    }

    /**
     * Reads and checks a trace.
     *
     * @param allowIncomplete accept a trace without its {@code END} record (its program died before the
     *        tracker closed), replaying the records up to the cut
     * @throws IOException if the file cannot be read, is not a trace, or breaks the rules above; the
     *         message names the file and the byte offset of the offending record
     */
    public static ReplayTrace load(Path file, boolean allowIncomplete) throws IOException {
        try (TraceReader reader = TraceReader.open(file)) {
            Loader loader = new Loader(file, reader.allocatorName());
            for (TraceEvent event; (event = reader.next()) != null; ) {
                loader.add(event, reader.recordOffset());
            }
            loader.complete = reader.complete();
            if (!loader.complete && !allowIncomplete) {
                throw new IOException(file + ": the trace is cut short at byte " + reader.recordOffset()
                        + " (no END record: its writer did not close); replay it with --allow-incomplete to replay"
                        + " the " + loader.count + " operations before the cut");
            }
            return new ReplayTrace(loader);
        }
    }

    /** Accumulates the operations while reading, with the live set, to check every free and realloc. */
    private static final class Loader {
        final Path file;
        final String tracedAllocator;
        boolean complete;
        int count;
        byte[] ops = new byte[1024];
        int[] blocks = new int[1024];
        long[] sizes = new long[1024];
        byte[] alignments = new byte[1024];
        int[] threadOf = new int[1024];
        long[] blockSizes = new long[1024]; // current size of each block, -1 once freed
        int blockCount;
        int threads;
        long failed;
        long live;
        long peak;
        int peakOp = -1;

        Loader(Path file, String tracedAllocator) {
            this.file = file;
            this.tracedAllocator = tracedAllocator;
        }

        void add(TraceEvent event, long offset) throws IOException {
            switch (event) {
                case TraceEvent.Alloc alloc -> {
                    if (alloc.blockId() != blockCount || blockCount >= MAX_BLOCKS) {
                        throw error(offset, "block id " + alloc.blockId() + " where " + blockCount + " was due");
                    }
                    if (blockCount == blockSizes.length) {
                        blockSizes = Arrays.copyOf(blockSizes, blockCount * 2);
                    }
                    blockSizes[blockCount++] = alloc.byteSize();
                    append(alloc.zeroed() ? ALLOC_ZEROED : ALLOC, alloc.blockId(), alloc.byteSize(), alloc.byteAlignment(),
                            thread(alloc.thread(), offset));
                    changeLive(alloc.byteSize());
                }
                case TraceEvent.Realloc realloc -> {
                    checkLive(realloc.blockId(), realloc.oldSize(), "realloc", offset);
                    blockSizes[(int) realloc.blockId()] = realloc.newSize();
                    append(REALLOC, realloc.blockId(), realloc.newSize(), realloc.byteAlignment(),
                            thread(realloc.thread(), offset));
                    changeLive(realloc.newSize() - realloc.oldSize());
                }
                case TraceEvent.Free free -> {
                    checkLive(free.blockId(), free.byteSize(), "free", offset);
                    blockSizes[(int) free.blockId()] = -1;
                    append(FREE, free.blockId(), free.byteSize(), 1, thread(free.thread(), offset));
                    changeLive(-free.byteSize());
                }
                case TraceEvent.Failed ignored -> failed++;
                case TraceEvent.ThreadStart start -> {
                    if (start.index() != threads) {
                        throw error(offset, "thread index " + start.index() + " where " + threads + " was due");
                    }
                    threads++;
                }
                case TraceEvent.End ignored -> {
                    // the reader checks its record count
                }
            }
        }

        private void checkLive(long blockId, long byteSize, String what, long offset) throws IOException {
            if (blockId >= blockCount || blockSizes[(int) blockId] < 0) {
                throw error(offset, what + " of block " + blockId + ", which is not live");
            }
            if (blockSizes[(int) blockId] != byteSize) {
                throw error(offset, what + " of block " + blockId + " says " + byteSize + " bytes; the block has "
                        + blockSizes[(int) blockId]);
            }
        }

        private int thread(int index, long offset) throws IOException {
            if (index >= threads) {
                throw error(offset, "thread " + index + ", which no THREAD record introduced");
            }
            return index;
        }

        private IOException error(long offset, String what) {
            return new IOException(file + ": record at byte " + offset + ": " + what);
        }

        private void append(byte op, long blockId, long byteSize, long byteAlignment, int thread) {
            if (count == ops.length) {
                int grown = count * 2;
                ops = Arrays.copyOf(ops, grown);
                blocks = Arrays.copyOf(blocks, grown);
                sizes = Arrays.copyOf(sizes, grown);
                alignments = Arrays.copyOf(alignments, grown);
                threadOf = Arrays.copyOf(threadOf, grown);
            }
            ops[count] = op;
            blocks[count] = (int) blockId;
            sizes[count] = byteSize;
            alignments[count] = (byte) Long.numberOfTrailingZeros(byteAlignment);
            threadOf[count] = thread;
            count++;
        }

        private void changeLive(long delta) {
            live += delta;
            if (live > peak) {
                peak = live;
                peakOp = count; // after `count` operations
            }
        }
    }

    /** The trace file. */
    public Path file() {
        return file;
    }

    /** Operations to replay (FAILED, THREAD and END records left out). */
    public int operations() {
        return operations;
    }

    /** Blocks the trace creates. */
    public int blockCount() {
        return blockCount;
    }

    /** The most bytes live at once, counted from the trace alone: what every replay must reach. */
    public long peakLiveBytes() {
        return peakLiveBytes;
    }

    /** Bytes still live after the last operation (blocks the program never freed). */
    public long endLiveBytes() {
        return endLiveBytes;
    }

    /** What the replay reports about the trace. */
    public TraceSummary summary() {
        return new TraceSummary(file.toString(), tracedAllocator, complete, operations, blockCount, threads,
                failedRecords, peakLiveBytes, peakLiveOp, endLiveBytes);
    }

    byte op(int index) {
        return ops[index];
    }

    int block(int index) {
        return blocks[index];
    }

    long size(int index) {
        return sizes[index];
    }

    long alignment(int index) {
        return 1L << alignments[index];
    }

    /** The index of the thread that recorded operation {@code index}. */
    int thread(int index) {
        return threadOf[index];
    }

    /** Recorded threads (THREAD records), some possibly without operations. */
    int threads() {
        return threads;
    }

    /** For each recorded thread, the indexes of its operations, in trace order. */
    int[][] operationsByThread() {
        int[] counts = new int[threads];
        for (int i = 0; i < operations; i++) {
            counts[threadOf[i]]++;
        }
        int[][] byThread = new int[threads][];
        for (int t = 0; t < threads; t++) {
            byThread[t] = new int[counts[t]];
            counts[t] = 0;
        }
        for (int i = 0; i < operations; i++) {
            int t = threadOf[i];
            byThread[t][counts[t]++] = i;
        }
        return byThread;
    }

    /**
     * The operation counts after which a replay takes a sample: the end of every window of
     * {@code every} operations, and, inside each window, the point of its highest live bytes when that
     * is a new peak so far. So the series holds the exact peak and the envelope of the curve. The
     * first point is 0 (nothing done yet).
     */
    int[] samplePoints(int every) {
        if (every < 1) {
            throw new IllegalArgumentException("sample every " + every + " operations: must be at least 1");
        }
        int[] points = new int[2 * (operations / every + 2)];
        int count = 0;
        points[count++] = 0;
        long[] blockSizes = new long[blockCount];
        long live = 0;
        long peakSoFar = 0;
        for (int windowStart = 0; windowStart < operations; windowStart += every) {
            int windowEnd = (int) Math.min((long) windowStart + every, operations);
            long windowPeak = -1;
            int windowPeakAt = -1;
            for (int i = windowStart; i < windowEnd; i++) {
                int block = blocks[i];
                live += ops[i] == FREE ? -sizes[i] : sizes[i] - blockSizes[block];
                blockSizes[block] = ops[i] == FREE ? 0 : sizes[i];
                if (live > windowPeak) {
                    windowPeak = live;
                    windowPeakAt = i + 1;
                }
            }
            if (windowPeak > peakSoFar && windowPeakAt != windowEnd) {
                points[count++] = windowPeakAt;
            }
            peakSoFar = Math.max(peakSoFar, windowPeak);
            points[count++] = windowEnd;
        }
        assert peakSoFar == peakLiveBytes : peakSoFar + " != " + peakLiveBytes;
        return Arrays.copyOf(points, count);
    }
}
