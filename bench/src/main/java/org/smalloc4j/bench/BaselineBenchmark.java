package org.smalloc4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.internal.PlatformDependent;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Off-heap memory as Java code gets it without smalloc4j, one block per operation, each with one byte
 * written, on 1 and 2 threads, measured as {@link AllocFreeBenchmark}'s FFM layer is: the methods
 * carry the same names ({@code ffmPair1T}, {@code ffmPair2T}) because each makes one object per
 * block, as {@code allocate} does, so that {@code JmhReport} puts both in the same rows.
 *
 * <ul>
 * <li>{@code arena-confined}: {@code Arena.ofConfined()} opened, one {@code allocate}, closed: the
 * JDK's way to free one segment;</li>
 * <li>{@code direct-buffer}: {@code ByteBuffer.allocateDirect}. A direct buffer cannot be freed
 * explicitly: the operation only allocates, and the GC frees the buffers it finds unreachable (their
 * cleaners run later); when the direct-memory limit is reached, {@code allocateDirect} itself calls
 * {@code System.gc()} and waits. The forks set that limit to 1 GiB ({@code -XX:MaxDirectMemorySize=1g};
 * the default, the heap's maximum, would let garbage buffers hold gigabytes of touched memory on a
 * shared machine), so at 1 MiB a collection comes about every thousand operations. Read its figures
 * with {@code -prof gc}: they include the collections they cause;</li>
 * <li>{@code netty-pooled}: {@code PooledByteBufAllocator.DEFAULT.directBuffer(size)}, then
 * {@code release()};</li>
 * <li>{@code netty-adaptive}: Netty 4.2's {@code AdaptiveByteBufAllocator} (direct), then
 * {@code release()}.</li>
 * </ul>
 * The long-lived {@code Arena.ofShared()}, which only allocates, is {@link SharedArenaBenchmark}.
 *
 * <p><b>Netty's fast path on JDK 25.</b> Netty 4.2 turns {@code sun.misc.Unsafe} off by default on
 * Java 25 and later unless {@code --sun-misc-unsafe-memory-access} is given; with {@code =allow} it
 * uses its unsafe buffers ({@code PooledUnsafeDirectByteBuf}). It recycles buffer objects and keeps
 * the pooled allocator's thread caches only on its own {@code FastThreadLocalThread}s: on JMH's
 * ordinary threads every buffer would be a new object (144 B/op), so the forks run JMH's workers as
 * such threads ({@link FastThreadLocalExecutor}), as a Netty event loop is. The adaptive allocator is
 * made with {@code useCacheForNonEventLoopThreads} true, so that these threads get its thread-local
 * magazines as event loops do. Leak detection is off ({@code -Dio.netty.leakDetection.level=disabled};
 * the default level samples one buffer in 128 and wraps it: 12 B/op).
 * {@code -Dio.netty.tryReflectionSetAccessible=true} and {@code --add-opens=java.base/java.nio=ALL-UNNAMED}
 * let Netty make its chunks without a JDK cleaner. The forks get all of these; setup fails, naming the
 * flag, when Netty is not on that path.
 *
 * <pre>
 * bench/run 'BaselineBenchmark' -prof gc
 * bench/run 'BaselineBenchmark\.ffmPair1T$' -p size=256 -f 1 -wi 1 -i 1 -w 200ms -r 200ms   # smoke run
 * </pre>
 * Nothing outlives an operation but the direct buffers, which the GC frees.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-Djmh.executor=CUSTOM", "-Djmh.executor.class=org.smalloc4j.bench.FastThreadLocalExecutor",
        "-Dio.netty.leakDetection.level=disabled", "-Dio.netty.tryReflectionSetAccessible=true",
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "-XX:MaxDirectMemorySize=1g"})
@State(Scope.Benchmark)
public class BaselineBenchmark {

    /** Every name {@code -p allocator=…} takes. */
    static final List<String> NAMES = List.of("arena-confined", "direct-buffer", "netty-pooled", "netty-adaptive");

    @Param({"16", "256", "4096", "65536", "1048576"})
    public int size;

    /** A name of {@link #NAMES}. */
    @Param({"arena-confined", "direct-buffer", "netty-pooled", "netty-adaptive"})
    public String allocator;

    private BlockSource source;

    /** One block of {@code byteSize} bytes allocated, written and (where the source can) freed. */
    @FunctionalInterface
    interface BlockSource {
        /**
         * Returns the block's object (segment, buffer), which JMH's blackhole takes, as
         * {@link AllocFreeBenchmark}'s FFM layer returns its segments: the object is really made.
         */
        Object cycle(int byteSize);
    }

    @Setup
    public void setUp() {
        source = open(allocator);
        checkAllocates(allocator, size);
    }

    /**
     * The source called {@code name}.
     *
     * @throws IllegalArgumentException if the name is none of {@link #NAMES}
     * @throws IllegalStateException if Netty is not on its fast path (naming the missing flag)
     */
    static BlockSource open(String name) {
        return switch (name) {
            case "arena-confined" -> BaselineBenchmark::confinedArenaCycle;
            case "direct-buffer" -> BaselineBenchmark::directBufferCycle;
            case "netty-pooled" -> {
                checkNettyFastPath();
                ByteBufAllocator pooled = PooledByteBufAllocator.DEFAULT;
                yield byteSize -> nettyCycle(pooled, byteSize);
            }
            case "netty-adaptive" -> {
                checkNettyFastPath();
                ByteBufAllocator adaptive = new AdaptiveByteBufAllocator(true, true);
                yield byteSize -> nettyCycle(adaptive, byteSize);
            }
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "': the known ones are " + NAMES);
        };
    }

    private static MemorySegment confinedArenaCycle(int byteSize) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment segment = arena.allocate(byteSize, BlockCycle.BYTE_ALIGNMENT);
            segment.set(JAVA_BYTE, 0, (byte) 1);
            return segment;
        }
    }

    private static ByteBuffer directBufferCycle(int byteSize) {
        return ByteBuffer.allocateDirect(byteSize).put(0, (byte) 1);
    }

    private static ByteBuf nettyCycle(ByteBufAllocator allocator, int byteSize) {
        final ByteBuf buffer = allocator.directBuffer(byteSize);
        buffer.writeByte(1);
        buffer.release(); // a pooled buffer object goes back to Netty's recycler: returning it makes nothing new
        return buffer;
    }

    /**
     * @throws IllegalStateException unless the calling thread is one of Netty's, and Netty uses
     *         {@code sun.misc.Unsafe}, cleaner-less chunks and no leak detection
     */
    private static void checkNettyFastPath() {
        if (!FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals()) {
            throw new IllegalStateException("the benchmark runs on " + Thread.currentThread()
                    + ", where Netty neither recycles buffers nor caches: run with -Djmh.executor=CUSTOM"
                    + " -Djmh.executor.class=" + FastThreadLocalExecutor.class.getName());
        }
        if (!PlatformDependent.hasUnsafe()) {
            throw new IllegalStateException("Netty runs without sun.misc.Unsafe (" + PlatformDependent.getUnsafeUnavailabilityCause()
                    + "): run with --sun-misc-unsafe-memory-access=allow");
        }
        if (!PlatformDependent.useDirectBufferNoCleaner()) {
            throw new IllegalStateException("Netty makes direct buffers with a JDK cleaner: run with"
                    + " -Dio.netty.tryReflectionSetAccessible=true --add-opens=java.base/java.nio=ALL-UNNAMED");
        }
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.DISABLED) {
            throw new IllegalStateException("Netty's leak detection is " + ResourceLeakDetector.getLevel()
                    + ": run with -Dio.netty.leakDetection.level=disabled");
        }
    }

    /**
     * Checks that the source really gives {@code byteSize} writable bytes: a block whose first and
     * last bytes keep what is written, then freed where the source can free.
     *
     * @throws IllegalStateException naming the source and what is wrong
     */
    static void checkAllocates(String name, int byteSize) {
        switch (name) {
            case "arena-confined" -> {
                try (Arena arena = Arena.ofConfined()) {
                    checkKeeps(name, arena.allocate(byteSize, BlockCycle.BYTE_ALIGNMENT), byteSize);
                }
            }
            case "direct-buffer" -> checkKeeps(name, MemorySegment.ofBuffer(ByteBuffer.allocateDirect(byteSize)), byteSize);
            case "netty-pooled", "netty-adaptive" -> {
                ByteBufAllocator allocator = name.equals("netty-pooled") ? PooledByteBufAllocator.DEFAULT
                        : new AdaptiveByteBufAllocator(true, true);
                ByteBuf buffer = allocator.directBuffer(byteSize);
                if (!buffer.isDirect() || !buffer.hasMemoryAddress()) {
                    throw new IllegalStateException(name + " gave " + buffer.getClass().getName() + ", not a direct buffer with an address");
                }
                checkKeeps(name, MemorySegment.ofAddress(buffer.memoryAddress()).reinterpret(buffer.capacity()), byteSize);
                if (!buffer.release()) {
                    throw new IllegalStateException(name + ": a buffer is still referenced after release()");
                }
            }
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "': the known ones are " + NAMES);
        }
    }

    private static void checkKeeps(String name, MemorySegment block, int byteSize) {
        if (block.byteSize() < byteSize || block.address() == 0) {
            throw new IllegalStateException(name + " gave " + block + " for " + byteSize + " bytes");
        }
        block.set(JAVA_BYTE, 0, (byte) 0x5a);
        block.set(JAVA_BYTE, byteSize - 1, (byte) 0xa5);
        if (block.get(JAVA_BYTE, 0) != (byte) 0x5a || block.get(JAVA_BYTE, byteSize - 1) != (byte) 0xa5) {
            throw new IllegalStateException(name + ": a block does not keep what is written");
        }
    }

    @Benchmark
    @Threads(1)
    public Object ffmPair1T() {
        return source.cycle(size);
    }

    @Benchmark
    @Threads(2)
    public Object ffmPair2T() {
        return source.cycle(size);
    }
}
