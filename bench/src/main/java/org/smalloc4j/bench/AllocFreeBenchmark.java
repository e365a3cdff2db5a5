package org.smalloc4j.bench;

import java.lang.foreign.MemorySegment;
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
import org.smalloc4j.SystemAllocator;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * One allocation and its free per operation, on Smalloc and on libc malloc (the baseline), through
 * the raw layer ({@code alloc}/{@code dealloc}: addresses as {@code long}) and the FFM layer
 * ({@code allocate}/{@code free}: zero-filled segments), on 1 and 2 threads in one run. Each block
 * gets one byte written, so that its memory is really touched.
 *
 * <p>Build and run (the {@code java} must be a JDK 25; the machine's default may be older):
 * <pre>
 * ./mvnw -q -pl bench -am package -DskipTests &amp;&amp; java -jar bench/target/benchmarks.jar AllocFree -prof gc
 *
 * # with the JDK that ./mvnw uses:
 * (. .mvn/find-jdk.sh &amp;&amp; require_jdk &amp;&amp; "$JAVA_HOME/bin/java" -jar bench/target/benchmarks.jar AllocFree -prof gc)
 *
 * # list; a smoke run of two methods at one size (seconds, not figures):
 * java -jar bench/target/benchmarks.jar -l
 * java -jar bench/target/benchmarks.jar 'AllocFreeBenchmark\.(pair1T|ffmPair2T)$' -p size=16 -f 1 -wi 1 -i 1 -w 1s -r 1s -prof gc
 * </pre>
 * The methods: {@code pair1T}/{@code pair2T} raw layer, {@code ffmPair1T}/{@code ffmPair2T} FFM
 * layer, with 1 and 2 threads. {@code -prof gc} shows what each allocates on the Java heap per
 * operation (the raw layer should show about 0 B/op). JMH 1.37 calls {@code sun.misc.Unsafe}: the
 * host JVM warns about it unless started with {@code --sun-misc-unsafe-memory-access=allow} (the
 * forks are).
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

    /** Alignment of every block: a {@code long}'s, as in {@code smalloc4j bench}. */
    private static final long BYTE_ALIGNMENT = 8;

    /** Writes at raw addresses without a segment per block (no Java-heap allocation). */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @Param({"16", "256", "4096", "65536"})
    public long size;

    /**
     * {@code smalloc} is the global heap; {@code smalloc-heap} and {@code smalloc-checked} are builder
     * heaps (reached through their shared arena) without and with checked mode, so that the cost of
     * checked mode shows as their ratio.
     */
    @Param({"smalloc", "system"})
    public String allocator;

    private NativeAllocator heap;

    @Setup
    public void setUp() {
        heap = switch (allocator) {
            case "smalloc" -> Smalloc.global();
            case "smalloc-heap" -> Smalloc.builder().name("smalloc-heap").build();
            case "smalloc-checked" -> Smalloc.builder().name("smalloc-checked").checked(true).build();
            case "system" -> new SystemAllocator();
            default -> throw new IllegalArgumentException("unknown allocator '" + allocator + "'");
        };
    }

    @TearDown
    public void tearDown() {
        heap.close(); // unmaps a builder heap; does nothing for the process-wide ones
    }

    @Benchmark
    @Threads(1)
    public void pair1T(Blackhole blackhole) {
        blackhole.consume(rawPair());
    }

    @Benchmark
    @Threads(2)
    public void pair2T(Blackhole blackhole) {
        blackhole.consume(rawPair());
    }

    @Benchmark
    @Threads(1)
    public void ffmPair1T(Blackhole blackhole) {
        blackhole.consume(ffmPair());
    }

    @Benchmark
    @Threads(2)
    public void ffmPair2T(Blackhole blackhole) {
        blackhole.consume(ffmPair());
    }

    private long rawPair() {
        final long address = heap.alloc(size, BYTE_ALIGNMENT);
        if (address == 0) {
            throw new OutOfMemoryError(heap.name() + " could not allocate " + size + " bytes"); // not a write to NULL
        }
        EVERYTHING.set(JAVA_BYTE, address, (byte) 1);
        heap.dealloc(address, size, BYTE_ALIGNMENT);
        return address;
    }

    private long ffmPair() {
        final MemorySegment segment = heap.allocate(size, BYTE_ALIGNMENT);
        segment.set(JAVA_BYTE, 0, (byte) 1);
        heap.free(segment);
        return segment.address();
    }
}
