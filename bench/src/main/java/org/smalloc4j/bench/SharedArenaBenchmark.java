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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A long-lived {@code Arena.ofShared()}: what allocating from it costs ({@code allocate1T},
 * {@code allocate2T}), and, apart, what closing it costs ({@code close}).
 *
 * <p><b>Why single shots.</b> A shared arena frees nothing before it closes, so timing allocation
 * alone in JMH's usual loop would hold every block of a one-second iteration (gigabytes at 1 MiB a
 * block). Instead each measured shot is {@value #BLOCKS} allocations per thread from one arena that
 * all threads share; the arena is opened before the iteration and closed after it, outside the timing
 * (JMH runs iteration fixtures when every thread is done). The score is per allocation
 * ({@code @OperationsPerInvocation}). A shot holds at most {@value #BLOCKS} blocks per thread: 256 MiB
 * per thread at 1 MiB. The trial's setup warms the code first (51,200 small allocations on throw-away
 * arenas), because a few hundred allocations per shot would otherwise be timed in the interpreter.
 *
 * <p>{@code close}: one shot closes an arena that holds {@code blocks} blocks of {@code size}
 * bytes, allocated before the shot: the thread handshake of a shared arena's close plus one
 * {@code free} per block.
 *
 * <pre>
 * bench/run 'SharedArenaBenchmark' -prof gc            # its own warm-up and iteration counts: no -wi/-i/-w/-r
 * bench/run 'SharedArenaBenchmark.allocate1T' -p size=16 -f 1 -wi 5 -i 5   # smoke run
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 30)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class SharedArenaBenchmark {

    /** Allocations per thread per shot: enough to time, few enough that 1 MiB blocks fit in memory. */
    static final int BLOCKS = 256;
    /** Shots of {@value #BLOCKS} small allocations that the trial's setup runs to compile the code first. */
    private static final int WARM_UP_SHOTS = 200;

    @Param({"16", "256", "4096", "65536", "1048576"})
    public long size;

    private Arena arena;

    @Setup(Level.Trial)
    public void warmUp() {
        for (int shot = 0; shot < WARM_UP_SHOTS; shot++) {
            try (Arena warm = Arena.ofShared()) {
                allocateBlocks(warm, 16);
            }
        }
        try (Arena check = Arena.ofShared()) {
            checkKeeps(check.allocate(size, BlockCycle.BYTE_ALIGNMENT), size);
        }
    }

    @Setup(Level.Iteration)
    public void openArena() {
        arena = Arena.ofShared();
    }

    @TearDown(Level.Iteration)
    public void closeArena() {
        arena.close();
    }

    /** {@value #BLOCKS} segments of {@code byteSize} bytes from {@code arena}, a byte written in each. */
    static long allocateBlocks(Arena arena, long byteSize) {
        long addresses = 0;
        for (int i = 0; i < BLOCKS; i++) {
            final MemorySegment segment = arena.allocate(byteSize, BlockCycle.BYTE_ALIGNMENT);
            segment.set(JAVA_BYTE, 0, (byte) 1);
            addresses += segment.address();
        }
        return addresses;
    }

    /** @throws IllegalStateException if the segment is not {@code byteSize} bytes that keep what is written */
    static void checkKeeps(MemorySegment segment, long byteSize) {
        segment.set(JAVA_BYTE, byteSize - 1, (byte) 0xa5);
        if (segment.byteSize() != byteSize || segment.address() == 0 || segment.get(JAVA_BYTE, byteSize - 1) != (byte) 0xa5) {
            throw new IllegalStateException("Arena.ofShared() gave " + segment + " for " + byteSize + " bytes");
        }
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BLOCKS)
    public long allocate1T() {
        return allocateBlocks(arena, size);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(BLOCKS)
    public long allocate2T() {
        return allocateBlocks(arena, size);
    }

    /** A shared arena holding {@code blocks} blocks, filled before each shot of {@code close}. */
    @State(Scope.Thread)
    public static class FilledArena {

        @Param({"1", "256"})
        public int blocks;

        Arena arena;

        @Setup(Level.Iteration)
        public void fill(SharedArenaBenchmark benchmark) {
            arena = Arena.ofShared();
            for (int i = 0; i < blocks; i++) {
                arena.allocate(benchmark.size, BlockCycle.BYTE_ALIGNMENT).set(JAVA_BYTE, 0, (byte) 1);
            }
        }

        @TearDown(Level.Iteration)
        public void checkClosed() {
            if (arena.scope().isAlive()) {
                throw new IllegalStateException("the shot did not close its arena");
            }
        }
    }

    @Benchmark
    @Threads(1)
    public void close(FilledArena filled) {
        filled.arena.close();
    }
}
