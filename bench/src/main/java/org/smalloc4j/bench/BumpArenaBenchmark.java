package org.smalloc4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.smalloc4j.BumpArena;
import org.smalloc4j.Smalloc;

/**
 * A bump arena per "request": {@value #BLOCKS} allocations, then {@code reset()}, reported per
 * allocation (the reset amortised over the batch), against the JDK's own {@code Arena.ofConfined()}
 * opened and closed per batch (the baseline). {@code reset} alone is timed with one block per
 * generation: it is O(1), so its time does not depend on how many blocks the generation had.
 *
 * <pre>
 * bench/run BumpArena -prof gc
 * bench/run 'BumpArenaBenchmark' -p size=16 -f 1 -wi 1 -i 1 -w 1s -r 1s    # smoke run, not figures
 * </pre>
 * Methods: {@code rawAlloc} ({@code alloc}: addresses, nothing zeroed), {@code allocate} (zero-filled
 * segments of the generation's scope), {@code jdkConfinedArena} (the same segments from
 * {@code Arena.ofConfined()}), {@code reset} (one block and a reset).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class BumpArenaBenchmark {

    /** Allocations per generation: 512 blocks of at most 64 B stay inside one 64 KiB chunk. */
    static final int BLOCKS = 512;

    @Param({"8", "16", "64"})
    public long size;

    private BumpArena arena;

    @Setup(Level.Trial)
    public void setUp() {
        arena = BumpArena.of(Smalloc.global());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public void rawAlloc(Blackhole blackhole) {
        for (int i = 0; i < BLOCKS; i++) {
            blackhole.consume(arena.alloc(size, 8));
        }
        arena.reset();
    }

    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public void allocate(Blackhole blackhole) {
        for (int i = 0; i < BLOCKS; i++) {
            blackhole.consume(arena.allocate(size, 8));
        }
        arena.reset();
    }

    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public void jdkConfinedArena(Blackhole blackhole) {
        try (Arena confined = Arena.ofConfined()) {
            for (int i = 0; i < BLOCKS; i++) {
                MemorySegment segment = confined.allocate(size, 8);
                blackhole.consume(segment);
            }
        }
    }

    @Benchmark
    public void reset(Blackhole blackhole) {
        blackhole.consume(arena.alloc(size, 8));
        arena.reset();
    }
}
