package org.smalloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.smalloc4j.NativeAllocator;

/**
 * One block allocated and given back per operation, on every {@link NativeAllocator}, through the raw
 * layer ({@code alloc}/{@code dealloc}: addresses as {@code long}) and the FFM layer
 * ({@code allocate}/{@code free}: zero-filled segments, one {@code MemorySegment} object each), on 1
 * and 2 threads. Each block gets one byte written, so that its memory is really touched.
 *
 * <p>The allocators ({@code -p allocator=…}), all in one run so that they compare as ratios:
 * <ul>
 * <li>{@code smalloc}: {@code Smalloc.global()}; {@code system}: libc {@code malloc}/{@code free};
 * {@code jemalloc}, {@code mimalloc}: the installed libraries (a library that cannot be loaded fails
 * the benchmark with the reason: jemalloc needs {@code GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384},
 * which {@code bench/run} sets);</li>
 * <li>{@code bump:smalloc}: a {@code BumpArena} per thread over the global heap, which never frees a
 * block: one operation is one allocation, and every 64th is followed by {@code reset()}, so the reset
 * is amortised over 64 blocks ({@link BlockCycle.ResetEvery});</li>
 * <li>{@code tracking:smalloc}: {@code TrackingAllocator.of(Smalloc.global())}, counters only, one
 * tracker shared by the threads;</li>
 * <li>not in the default list: {@code tracking-exact:smalloc} (a tracker with
 * {@code exactPeak(true)}: exact shared live bytes, as with a byte limit), {@code tracking-trace:smalloc} (a tracker recording a trace to
 * {@code /dev/null}), {@code smalloc-heap} and {@code smalloc-checked} (builder heaps without and with
 * checked mode), {@code smalloc-heap-keep-pages} (a builder heap that never gives pages back: the
 * cost of page release shows at 1 MiB) and {@code smalloc-heap-no-cache} (a builder heap without
 * thread caches).</li>
 * </ul>
 * Every allocator but the bump arenas is shared by the threads. Setup checks that the allocator
 * really allocates the size through both layers; teardown checks that everything was given back
 * (trackers count no live bytes, the global heap has the slots in use it had before).
 *
 * <pre>
 * bench/run 'AllocFreeBenchmark' -prof gc                                   # all, as published
 * bench/run 'AllocFreeBenchmark\.pair[12]T$' -p allocator=smalloc,tracking:smalloc,tracking-exact:smalloc,tracking-trace:smalloc
 * bench/run 'AllocFreeBenchmark\.pair1T$' -p allocator=smalloc,smalloc-heap,smalloc-checked -p size=16,4096
 * bench/run 'AllocFreeBenchmark\.pair1T$' -p allocator=smalloc-heap,smalloc-heap-keep-pages,smalloc-heap-no-cache
 * bench/run 'AllocFreeBenchmark\.pair1T$' -p size=16 -f 1 -wi 1 -i 1 -w 200ms -r 200ms   # smoke run, not figures
 * </pre>
 * The methods: {@code pair1T}/{@code pair2T} raw layer, {@code ffmPair1T}/{@code ffmPair2T} FFM layer,
 * with 1 and 2 threads. {@code -prof gc} shows what each allocates on the Java heap per operation: about
 * 0 B/op on the raw layer, a segment (40 B on Smalloc) per block on the FFM layer, whose methods return
 * the segment to JMH as a caller would keep it (so that the JIT cannot drop it). JMH 1.37 calls
 * {@code sun.misc.Unsafe}: the forks are started with {@code --sun-misc-unsafe-memory-access=allow}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// the forked JVM runs on the class path, where the jar manifest's Enable-Native-Access does not
// reach; JMH 1.37 itself calls sun.misc.Unsafe, which JDK 25 warns about unless allowed
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class AllocFreeBenchmark {

    @Param({"16", "256", "4096", "65536", "1048576"})
    public long size;

    /** A name of {@link BenchAllocators#NAMES}. */
    @Param({BenchAllocators.SMALLOC, "system", "jemalloc", "mimalloc", BenchAllocators.BUMP, BenchAllocators.TRACKING})
    public String allocator;

    private NativeAllocator heap; // shared by the threads; for bump:smalloc the parent of their arenas
    private long globalSlotsBefore;
    private final AtomicInteger threadsHolding = new AtomicInteger();

    @Setup
    public void setUp() {
        heap = BenchAllocators.open(allocator);
        globalSlotsBefore = BenchAllocators.globalSlotsInUse();
        BenchAllocators.checkAllocates(heap, size, BlockCycle.BYTE_ALIGNMENT);
    }

    /** The allocator the threads share (tests). */
    NativeAllocator heap() {
        return heap;
    }

    /**
     * Called by the last thread to give back its blocks: JMH tears this state down from the first
     * thread that finishes, while another may still hold its bump arena, so the check waits for all.
     */
    private void lastThreadDone() {
        try {
            BenchAllocators.checkAllFreed(allocator, heap, globalSlotsBefore);
        } finally {
            heap.close(); // unmaps a builder heap; does nothing for the process-wide ones
        }
    }

    /** What one benchmark thread allocates with: its own bump arena, or the shared allocator. */
    @State(Scope.Thread)
    public static class ThreadCycle {

        BlockCycle cycle;
        private AllocFreeBenchmark benchmark;

        @Setup
        public void setUp(AllocFreeBenchmark benchmark) {
            this.benchmark = benchmark;
            if (benchmark.allocator.equals(BenchAllocators.BUMP)) {
                BlockCycle.ResetEvery bump = new BlockCycle.ResetEvery(benchmark.heap, benchmark.size);
                BenchAllocators.checkAllocates(bump.arena(), benchmark.size, BlockCycle.BYTE_ALIGNMENT);
                bump.arena().reset();
                cycle = bump;
            } else {
                cycle = new BlockCycle.FreeEach(benchmark.heap);
            }
            benchmark.threadsHolding.incrementAndGet();
        }

        @TearDown
        public void tearDown() {
            cycle.close();
            if (benchmark.threadsHolding.decrementAndGet() == 0) {
                benchmark.lastThreadDone();
            }
        }
    }

    @Benchmark
    @Threads(1)
    public long pair1T(ThreadCycle thread) {
        return thread.cycle.raw(size);
    }

    @Benchmark
    @Threads(2)
    public long pair2T(ThreadCycle thread) {
        return thread.cycle.raw(size);
    }

    @Benchmark
    @Threads(1)
    public MemorySegment ffmPair1T(ThreadCycle thread) {
        return thread.cycle.ffm(size);
    }

    @Benchmark
    @Threads(2)
    public MemorySegment ffmPair2T(ThreadCycle thread) {
        return thread.cycle.ffm(size);
    }
}
