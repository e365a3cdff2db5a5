package org.smalloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

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
import org.openjdk.jmh.infra.Blackhole;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.TrackingAllocator;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * What a {@link TrackingAllocator} adds to an alloc+free pair of its inner allocator
 * ({@link Smalloc#global()}), all modes in one run so that they compare as differences:
 * <ul>
 * <li>{@code bare}: {@code Smalloc.global()} itself, the baseline;</li>
 * <li>{@code counters}: a tracker with counters only (the bar: at most 5 ns per pair above {@code bare});</li>
 * <li>{@code limit}: a tracker with a byte limit never reached: exact shared live bytes, two locked
 * instructions per pair;</li>
 * <li>{@code trace}: a tracker recording a trace to {@code /dev/null}: the encoding, the lock and the
 * writes, without a disk (a real file adds the disk's bandwidth: about 16 bytes per pair).</li>
 * </ul>
 * Raw layer, one byte written per block, 1 and 2 threads.
 *
 * <pre>
 * bench/run TrackingOverhead -prof gc
 * bench/run 'TrackingOverheadBenchmark.pair1T' -f 1 -wi 2 -i 3 -w 1s -r 1s     # a smoke run
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class TrackingOverheadBenchmark {

    private static final long BYTE_ALIGNMENT = 8;

    /** Writes at raw addresses without a segment per block. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @Param({"16", "4096"})
    public long size;

    @Param({"bare", "counters", "limit", "trace"})
    public String mode;

    private NativeAllocator heap;

    @Setup
    public void setUp() {
        heap = switch (mode) {
            case "bare" -> Smalloc.global();
            case "counters" -> TrackingAllocator.of(Smalloc.global());
            case "limit" -> TrackingAllocator.builder(Smalloc.global()).byteLimit(1L << 40).build();
            case "trace" -> TrackingAllocator.builder(Smalloc.global()).traceTo(Path.of("/dev/null")).build();
            default -> throw new IllegalArgumentException("unknown mode '" + mode + "'");
        };
    }

    @TearDown
    public void tearDown() {
        heap.close();
    }

    @Benchmark
    @Threads(1)
    public void pair1T(Blackhole blackhole) {
        blackhole.consume(pair());
    }

    @Benchmark
    @Threads(2)
    public void pair2T(Blackhole blackhole) {
        blackhole.consume(pair());
    }

    private long pair() {
        final long address = heap.alloc(size, BYTE_ALIGNMENT);
        if (address == 0) {
            throw new OutOfMemoryError(heap.name() + " could not allocate " + size + " bytes");
        }
        EVERYTHING.set(JAVA_BYTE, address, (byte) 1);
        heap.dealloc(address, size, BYTE_ALIGNMENT);
        return address;
    }
}
