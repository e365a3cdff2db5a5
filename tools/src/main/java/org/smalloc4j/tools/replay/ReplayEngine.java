package org.smalloc4j.tools.replay;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;
import java.util.function.LongUnaryOperator;

import org.smalloc4j.NativeAllocator;
import org.smalloc4j.TrackingAllocator;
import org.smalloc4j.tools.bench.Memory;
import org.smalloc4j.tools.bench.ResidentSet;

/**
 * Replays a {@link ReplayTrace} on one allocator, faithfully: the same operations in trace order
 * (alloc, allocZeroed, realloc, free, each with the trace's size and alignment), each block id mapped
 * to the address this allocator returned for it, so that the live set after every operation is the
 * trace's. A trace recorded by several threads is replayed on the calling thread alone by default, in
 * the order the records took effect (a {@code FREE} before any reuse of the memory): the same live
 * set, without the original threads. With {@link ReplaySettings#threadsAsRecorded()} each operation
 * runs on a stand-in of the thread that recorded it, the stand-ins taking turns in trace order
 * ({@link TurnTaking}): the same live set, and the same threads allocating and freeing each block, but
 * still no two operations at once (the trace does not say which operations overlapped).
 *
 * <p>Every block carries a pattern derived from its id: a tag in its first word and the tag's
 * complement in its last (blocks of 1 to 7 bytes: one byte of the tag), and a byte in every 4 KiB
 * between, so that its pages become resident as a program's filled blocks would. It is checked before each
 * free and realloc, and after a realloc as far as the content must be kept; a zeroed block is checked
 * to be zero at both ends first. A damaged block, an address returned twice, a misaligned block or an
 * allocator that returns 0 stops the replay with a {@link ReplayFailure} that names the operation.
 *
 * <p>Not thread-safe: one engine per replaying thread.
 */
public final class ReplayEngine {

    /** Stride of the bytes written inside a block, so that every page of it becomes resident. */
    private static final long PAGE = 4096;
    /** Spreads block ids over 64 bits: tags of neighbouring blocks differ in many bits. */
    private static final long TAG_MULTIPLIER = 0x9E37_79B9_7F4A_7C15L;

    final ReplayTrace trace;
    private final long[] addresses;      // per block: where it is now, 0 when not live
    private final long[] blockSizes;     // per block: its size now
    private final long[] blockAlignments; // per block: the alignment it was last allocated with
    private long liveBytes;
    private long peakLiveBytes;
    private String allocatorName = "?"; // for failure messages: the measured pass replays through a tracker

    /** An engine for one trace; it can replay it any number of times, on any allocator. */
    public ReplayEngine(ReplayTrace trace) {
        this.trace = trace;
        this.addresses = new long[trace.blockCount()];
        this.blockSizes = new long[trace.blockCount()];
        this.blockAlignments = new long[trace.blockCount()];
    }

    /**
     * The measured pass, {@code warmup} untimed passes for the JIT, then {@code repeat} timed passes:
     * see {@link AllocatorReplay}. Run it in a fresh process for resident-memory figures that mean
     * something ({@link ReplayWorker}).
     *
     * @param name the allocator's name for the result
     * @throws ReplayFailure if the allocator fails an operation or a block loses its content
     */
    public AllocatorReplay replay(String name, NativeAllocator allocator, ReplaySettings settings) {
        return replay(name, allocator, settings, () -> { });
    }

    /**
     * {@link #replay(String, NativeAllocator, ReplaySettings)}, calling {@code atPeakLive} once during
     * the measured pass, right after the operation after which live bytes first reach the trace's peak
     * ({@link TraceSummary#peakLiveOp()}; before the first operation if the trace has none) and after
     * that moment's sample: the blocks of the peak are live, and nothing else runs on the allocator.
     * For a snapshot of the heap at the peak, e.g. {@code Smalloc.stats()}.
     *
     * @throws ReplayFailure if the allocator fails an operation or a block loses its content
     */
    public AllocatorReplay replay(String name, NativeAllocator allocator, ReplaySettings settings, Runnable atPeakLive) {
        int[] points = trace.samplePoints(settings.sampleEvery());
        long peakLiveOp = Math.max(0, trace.summary().peakLiveOp());
        allocatorName = name;
        Optional<LongUnaryOperator> usableSize = UsableSize.of(allocator);
        WasteCounter waste = usableSize.map(WasteCounter::new).orElse(null);
        // counts live bytes independently of us; exactly, also when stand-in threads take turns
        TrackingAllocator counted = TrackingAllocator.builder(allocator).exactPeak(true).build();

        boolean[] isPoint = new boolean[trace.operations() + 1];
        for (int point : points) {
            isPoint[point] = true;
        }
        List<Sample> series = new ArrayList<>(points.length);
        long rssAtStart = ResidentSet.bytes();
        IntConsumer sampler = done -> {
            if (isPoint[done]) {
                long rss = ResidentSet.bytes();
                series.add(new Sample(done, liveBytes, rss < 0 || rssAtStart < 0 ? -1 : rss - rssAtStart));
            }
            if (done == peakLiveOp) {
                atPeakLive.run();
            }
        };
        sampler.accept(0);
        run(counted, waste, sampler, settings.threadsAsRecorded());
        long endLive = liveBytes;
        if (counted.peakBytes() != trace.peakLiveBytes() || peakLiveBytes != trace.peakLiveBytes()) {
            throw new ReplayFailure(trace.file() + " on '" + name + "': peak live bytes " + counted.peakBytes()
                    + " counted by the tracker, " + peakLiveBytes + " by the replay, " + trace.peakLiveBytes()
                    + " in the trace: the replay was not faithful");
        }
        freeLeftovers(counted);

        for (int pass = 0; pass < settings.warmup(); pass++) {
            pass(allocator, settings.threadsAsRecorded());
        }
        long[] passes = new long[settings.repeat()];
        for (int pass = 0; pass < passes.length; pass++) {
            passes[pass] = pass(allocator, settings.threadsAsRecorded());
        }
        return result(name, passes, series, endLive, rssAtStart, waste);
    }

    /**
     * One replay of the whole trace on this thread with nothing but the operations and the pattern
     * checks, then the blocks left live are freed (untimed).
     *
     * @return the nanoseconds the operations took
     * @throws ReplayFailure if the allocator fails an operation or a block loses its content
     */
    public long timedPass(NativeAllocator allocator) {
        allocatorName = allocator.name();
        return pass(allocator, false);
    }

    private long pass(NativeAllocator allocator, boolean threadsAsRecorded) {
        long start = System.nanoTime();
        run(allocator, null, null, threadsAsRecorded);
        long elapsed = System.nanoTime() - start;
        freeLeftovers(allocator);
        return elapsed;
    }

    /**
     * Replays every operation, on this thread or on the recorded threads' stand-ins.
     *
     * @param afterEach called with the number of operations done after each one, or null
     */
    private void run(NativeAllocator allocator, WasteCounter waste, IntConsumer afterEach, boolean threadsAsRecorded) {
        if (threadsAsRecorded) {
            new TurnTaking(this, allocator, waste, afterEach).run();
            return;
        }
        int operations = trace.operations();
        for (int i = 0; i < operations; i++) {
            perform(allocator, i, waste);
            if (afterEach != null) {
                afterEach.accept(i + 1);
            }
        }
    }

    /** Bytes live now, as requested by the trace. */
    public long liveBytes() {
        return liveBytes;
    }

    private AllocatorReplay result(String name, long[] passes, List<Sample> series, long endLive, long rssAtStart,
            WasteCounter waste) {
        long[] sorted = passes.clone();
        Arrays.sort(sorted);
        long median = sorted[sorted.length / 2];
        long peakRss = series.stream().mapToLong(Sample::rssGrowthBytes).max().orElse(-1);
        long peakLiveOp = trace.summary().peakLiveOp();
        long rssAtPeakLive = series.stream().filter(s -> s.op() == peakLiveOp)
                .mapToLong(Sample::rssGrowthBytes).findFirst().orElse(-1);
        long rssAtEnd = series.getLast().rssGrowthBytes();
        return new AllocatorReplay(name, trace.operations(), Arrays.stream(passes).boxed().toList(), median,
                trace.operations() == 0 ? 0 : (double) median / trace.operations(), trace.peakLiveBytes(), endLive,
                rssAtStart, peakRss, rssAtPeakLive, rssAtEnd, ratio(rssAtPeakLive, trace.peakLiveBytes()),
                ratio(rssAtEnd, endLive), series, waste != null, waste == null ? List.of() : waste.classes());
    }

    /** resident / live, or null where either is unknown or nothing is live. */
    private static Double ratio(long residentBytes, long live) {
        return residentBytes < 0 || live <= 0 ? null : (double) residentBytes / live;
    }

    // ---------------------------------------------------------------- the operations

    /** Replays operation {@code i}. */
    void perform(NativeAllocator allocator, int i, WasteCounter waste) {
        int block = trace.block(i);
        byte op = trace.op(i);
        switch (op) {
            case ReplayTrace.ALLOC, ReplayTrace.ALLOC_ZEROED -> {
                long byteSize = trace.size(i);
                long byteAlignment = trace.alignment(i);
                boolean zeroed = op == ReplayTrace.ALLOC_ZEROED;
                long address = zeroed ? allocator.allocZeroed(byteSize, byteAlignment)
                        : allocator.alloc(byteSize, byteAlignment);
                checkReturned(i, address, byteAlignment);
                if (zeroed) {
                    checkZero(i, address, byteSize);
                }
                placed(i, block, address, byteSize, byteAlignment, waste);
                changeLive(byteSize);
            }
            case ReplayTrace.REALLOC -> {
                long oldSize = blockSizes[block];
                long newSize = trace.size(i);
                long byteAlignment = trace.alignment(i);
                check(i, block, addresses[block], oldSize, "before realloc");
                long address = allocator.realloc(addresses[block], oldSize, byteAlignment, newSize);
                checkReturned(i, address, byteAlignment);
                check(i, block, address, Math.min(oldSize, newSize), "after realloc");
                placed(i, block, address, newSize, byteAlignment, waste);
                changeLive(newSize - oldSize);
            }
            case ReplayTrace.FREE -> {
                long byteSize = blockSizes[block];
                check(i, block, addresses[block], byteSize, "before free");
                allocator.dealloc(addresses[block], byteSize, blockAlignments[block]);
                addresses[block] = 0;
                changeLive(-byteSize);
            }
            default -> throw new AssertionError("op " + op);
        }
    }

    private void placed(int index, int block, long address, long byteSize, long byteAlignment, WasteCounter waste) {
        stamp(address, byteSize, tag(block));
        addresses[block] = address;
        blockSizes[block] = byteSize;
        blockAlignments[block] = byteAlignment;
        if (waste != null) {
            waste.add(byteSize, address);
        }
    }

    private void changeLive(long delta) {
        liveBytes += delta;
        peakLiveBytes = Math.max(peakLiveBytes, liveBytes);
    }

    /** Frees every block still live, checking each; leaves the engine ready for another pass. */
    private void freeLeftovers(NativeAllocator allocator) {
        for (int block = 0; block < addresses.length; block++) {
            if (addresses[block] != 0) {
                check(trace.operations(), block, addresses[block], blockSizes[block], "at the end");
                allocator.dealloc(addresses[block], blockSizes[block], blockAlignments[block]);
                addresses[block] = 0;
            }
        }
        liveBytes = 0;
        peakLiveBytes = 0;
    }

    // ---------------------------------------------------------------- the pattern

    private static long tag(int block) {
        return (block + 1L) * TAG_MULTIPLIER;
    }

    /**
     * Writes the tag at both ends, and one byte in every page between, as a program that fills its
     * blocks would make them resident.
     */
    private static void stamp(long address, long byteSize, long tag) {
        for (long offset = PAGE; offset < byteSize - Long.BYTES; offset += PAGE) {
            Memory.putByte(address + offset, (byte) tag);
        }
        if (byteSize >= Long.BYTES) {
            Memory.putLong(address, tag);
            if (byteSize >= 2 * Long.BYTES) {
                Memory.putLong(address + byteSize - Long.BYTES, ~tag);
            }
        } else if (byteSize > 0) {
            Memory.putByte(address, (byte) tag);
        }
    }

    /**
     * Checks the pattern of block {@code block} at {@code address} over its first {@code keptBytes}:
     * the first word (or byte), and the last word where the block's size before this operation is
     * covered.
     */
    private void check(int index, int block, long address, long keptBytes, String when) {
        long tag = tag(block);
        long stampedSize = blockSizes[block];
        if (keptBytes >= Long.BYTES && stampedSize >= Long.BYTES) {
            expect(index, block, address, 0, Memory.getLong(address), tag, when);
            if (stampedSize >= 2 * Long.BYTES && keptBytes >= stampedSize) {
                long offset = stampedSize - Long.BYTES;
                expect(index, block, address, offset, Memory.getLong(address + offset), ~tag, when);
            }
        } else if (keptBytes > 0 && stampedSize > 0) {
            expect(index, block, address, 0, Memory.getByte(address) & 0xFF, tag & 0xFF, when);
        }
    }

    private void checkZero(int index, long address, long byteSize) {
        if (byteSize >= Long.BYTES) {
            long first = Memory.getLong(address);
            long last = Memory.getLong(address + byteSize - Long.BYTES);
            if (first != 0 || last != 0) {
                throw failure(index, String.format("allocZeroed returned 0x%x whose first or last word is"
                        + " not zero (0x%x, 0x%x)", address, first, last));
            }
        }
    }

    private void checkReturned(int index, long address, long byteAlignment) {
        if (address == 0) {
            throw failure(index, "the allocator returned 0 (exhausted)");
        }
        if ((address & (byteAlignment - 1)) != 0) {
            throw failure(index, String.format("address 0x%x is not aligned to %d", address, byteAlignment));
        }
    }

    private void expect(int index, int block, long address, long offset, long found,
            long expected, String when) {
        if (found != expected) {
            throw failure(index, String.format("block %d (%d bytes at 0x%x) %s: the word at offset %d is"
                    + " 0x%x, expected 0x%x (the block was damaged or handed out twice)", block, blockSizes[block],
                    address, when, offset, found, expected));
        }
    }

    private ReplayFailure failure(int index, String what) {
        String operation = index < trace.operations() ? describe(index) : "leftover blocks";
        return new ReplayFailure(trace.file() + " on '" + allocatorName + "': operation " + (index + 1) + " of "
                + trace.operations() + " (" + operation + "): " + what);
    }

    private String describe(int index) {
        int block = trace.block(index);
        return switch (trace.op(index)) {
            case ReplayTrace.ALLOC -> "alloc of block " + block + ", " + trace.size(index) + " bytes aligned to "
                    + trace.alignment(index);
            case ReplayTrace.ALLOC_ZEROED -> "allocZeroed of block " + block + ", " + trace.size(index)
                    + " bytes aligned to " + trace.alignment(index);
            case ReplayTrace.REALLOC -> "realloc of block " + block + " to " + trace.size(index) + " bytes";
            default -> "free of block " + block;
        };
    }

    /** Usable minus requested bytes, per power-of-two class of the requested size. */
    static final class WasteCounter {
        private final LongUnaryOperator usableSize;
        private final long[] blocks = new long[Long.SIZE];
        private final long[] requested = new long[Long.SIZE];
        private final long[] usable = new long[Long.SIZE];

        WasteCounter(LongUnaryOperator usableSize) {
            this.usableSize = usableSize;
        }

        void add(long byteSize, long address) {
            int sizeClass = byteSize <= 1 ? 0 : Long.SIZE - Long.numberOfLeadingZeros(byteSize - 1);
            blocks[sizeClass]++;
            requested[sizeClass] += byteSize;
            usable[sizeClass] += usableSize.applyAsLong(address);
        }

        List<SizeClassWaste> classes() {
            List<SizeClassWaste> classes = new ArrayList<>();
            for (int sizeClass = 0; sizeClass < Long.SIZE; sizeClass++) {
                if (blocks[sizeClass] > 0) {
                    classes.add(new SizeClassWaste(1L << sizeClass, blocks[sizeClass], requested[sizeClass],
                            usable[sizeClass]));
                }
            }
            return classes;
        }
    }
}
