package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's zstd ({@code libzstd.so.1}, 1.5.4) allocating its compression and decompression contexts
 * from our allocators through {@code ZSTD_customMem}, passed by value to
 * {@code ZSTD_createCCtx_advanced} and {@code ZSTD_createDCtx_advanced} (both exported by Debian's
 * build, though in zstd's static-linking-only API). Four MiB round-trip, the compressed bytes equal
 * those made on zstd's own allocator, and every block comes back when the contexts are freed.
 */
class ZstdAllocatorTest {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBRARY = SymbolLookup.libraryLookup("libzstd.so.1", Arena.global());

    private static final MethodHandle CREATE_CCTX = handle("ZSTD_createCCtx", FunctionDescriptor.of(ADDRESS));
    private static final MethodHandle CREATE_DCTX = handle("ZSTD_createDCtx", FunctionDescriptor.of(ADDRESS));
    /** ZSTD_customMem by value: a 24-byte struct, which the x86-64 ABI passes in memory. */
    private static final MethodHandle CREATE_CCTX_ADVANCED = handle("ZSTD_createCCtx_advanced",
            FunctionDescriptor.of(ADDRESS, CAllocatorFunctions.ZSTD_CUSTOM_MEM));
    private static final MethodHandle CREATE_DCTX_ADVANCED = handle("ZSTD_createDCtx_advanced",
            FunctionDescriptor.of(ADDRESS, CAllocatorFunctions.ZSTD_CUSTOM_MEM));
    private static final MethodHandle FREE_CCTX = handle("ZSTD_freeCCtx", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle FREE_DCTX = handle("ZSTD_freeDCtx", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle COMPRESS_CCTX = handle("ZSTD_compressCCtx",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle COMPRESS2 = handle("ZSTD_compress2",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
    private static final MethodHandle SET_PARAMETER = handle("ZSTD_CCtx_setParameter",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle DECOMPRESS_DCTX = handle("ZSTD_decompressDCtx",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
    private static final MethodHandle COMPRESS_BOUND = handle("ZSTD_compressBound", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
    private static final MethodHandle IS_ERROR = handle("ZSTD_isError", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    private static final MethodHandle ERROR_NAME = handle("ZSTD_getErrorName", FunctionDescriptor.of(ADDRESS, JAVA_LONG));

    private static final int ZSTD_C_COMPRESSION_LEVEL = 100;
    private static final int ZSTD_C_NB_WORKERS = 400;
    private static final int LEVEL = 3;
    private static final int SOURCE_BYTES = 4 << 20;

    private static MemorySegment source;
    /** What zstd's own allocator makes of {@link #source}. */
    private static byte[] defaultCompressed;

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(
                LIBRARY.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libzstd.so.1 has no " + name)), descriptor);
    }

    @BeforeAll
    static void makeTheDataAndTheDefaultResult() throws Throwable {
        source = Arena.global().allocate(SOURCE_BYTES);
        fill(source, new Random(1_234_567));
        MemorySegment cctx = (MemorySegment) CREATE_CCTX.invokeExact();
        try {
            defaultCompressed = compress(cctx);
        } finally {
            checked((long) FREE_CCTX.invokeExact(cctx), "ZSTD_freeCCtx");
        }
        assertTrue(defaultCompressed.length < SOURCE_BYTES / 2, "the data compresses: " + defaultCompressed.length);
    }

    /** Text-like runs of words, some random bytes, some repeats from far back: work for every stage. */
    private static void fill(MemorySegment data, Random random) {
        String[] words = {"allocator", "slab", "slot", "free", "list", "arena", "zstd", "sqlite", "heap", "page",
                "class", "size", "thread", "lock", "cas", "epoch", "the", "a", "of", "and"};
        long offset = 0;
        while (offset < data.byteSize()) {
            int kind = random.nextInt(10);
            if (kind < 7) {
                byte[] word = (words[random.nextInt(words.length)] + (random.nextInt(8) == 0 ? ".\n" : " ")).getBytes();
                long length = Math.min(word.length, data.byteSize() - offset);
                MemorySegment.copy(MemorySegment.ofArray(word), 0, data, offset, length);
                offset += length;
            } else if (kind < 9) {
                long length = Math.min(1 + random.nextInt(64), data.byteSize() - offset);
                for (long i = 0; i < length; i++) {
                    data.set(JAVA_BYTE, offset + i, (byte) random.nextInt());
                }
                offset += length;
            } else if (offset > 4096) {
                long from = random.nextLong(offset - 1024);
                long length = Math.min(64 + random.nextInt(960), data.byteSize() - offset);
                MemorySegment.copy(data, from, data, offset, length);
                offset += length;
            }
        }
    }

    private static long checked(long result, String call) throws Throwable {
        if ((int) IS_ERROR.invokeExact(result) != 0) {
            String name = ((MemorySegment) ERROR_NAME.invokeExact(result)).reinterpret(Long.MAX_VALUE).getString(0);
            throw new IllegalStateException(call + ": " + name);
        }
        return result;
    }

    private static byte[] compress(MemorySegment cctx) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            long capacity = (long) COMPRESS_BOUND.invokeExact(source.byteSize());
            MemorySegment compressed = arena.allocate(capacity);
            long size = checked((long) COMPRESS_CCTX.invokeExact(cctx, compressed, capacity, source, source.byteSize(), LEVEL),
                    "ZSTD_compressCCtx");
            return compressed.asSlice(0, size).toArray(JAVA_BYTE);
        }
    }

    private static void assertDecompressesToTheSource(MemorySegment dctx, byte[] compressed) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocateFrom(JAVA_BYTE, compressed);
            MemorySegment output = arena.allocate(source.byteSize());
            long size = checked((long) DECOMPRESS_DCTX.invokeExact(dctx, output, output.byteSize(), input, input.byteSize()),
                    "ZSTD_decompressDCtx");
            assertEquals(source.byteSize(), size);
            assertEquals(-1, output.mismatch(source), "round trip");
        }
    }

    /**
     * Compresses and decompresses with contexts allocated by {@code functions}; the compressed bytes
     * must be zstd's own. Runs {@code whileAlive} with both contexts alive.
     */
    private static void roundTrip(CAllocatorFunctions functions, Runnable whileAlive) throws Throwable {
        MemorySegment customMem = functions.zstdCustomMem();
        MemorySegment cctx = (MemorySegment) CREATE_CCTX_ADVANCED.invokeExact(customMem);
        assertNotEquals(0, cctx.address(), "ZSTD_createCCtx_advanced");
        MemorySegment dctx = (MemorySegment) CREATE_DCTX_ADVANCED.invokeExact(customMem);
        assertNotEquals(0, dctx.address(), "ZSTD_createDCtx_advanced");
        try {
            byte[] compressed = compress(cctx);
            assertTrue(java.util.Arrays.equals(defaultCompressed, compressed), "the same bytes as on zstd's allocator");
            assertDecompressesToTheSource(dctx, compressed);
            whileAlive.run();
        } finally {
            checked((long) FREE_CCTX.invokeExact(cctx), "ZSTD_freeCCtx");
            checked((long) FREE_DCTX.invokeExact(dctx), "ZSTD_freeDCtx");
        }
    }

    @Test
    void onSmallocGlobalTheDataRoundTrips() throws Throwable {
        try (Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(Smalloc.global(), arena);
            roundTrip(functions, () -> { });
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
    }

    @Test
    void onACountedSmallocEveryAllocationIsCountedAndFreed() throws Throwable {
        TrackingAllocator counting = TrackingAllocator.of(Smalloc.global());
        try (Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(counting, BlockSizing.usableSize(Smalloc.global()), arena);
            roundTrip(functions, () -> assertTrue(counting.liveBytes() > 1 << 20, "contexts hold memory: " + counting));
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
        assertTrue(counting.allocationCount() > 1, counting::toString);
        assertEquals(0, counting.liveBytes(), counting::toString);
        assertEquals(counting.allocationCount(), counting.freeCount(), counting::toString);
    }

    @Test
    void withAHeaderOverLibcEveryAllocationIsCountedAndFreed() throws Throwable {
        TrackingAllocator counting = TrackingAllocator.of(new SystemAllocator());
        try (Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(counting, arena);
            roundTrip(functions, () -> assertTrue(counting.liveBytes() > 1 << 20, "contexts hold memory: " + counting));
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
        assertTrue(counting.allocationCount() > 1, counting::toString);
        assertEquals(0, counting.liveBytes(), counting::toString);
        assertEquals(counting.allocationCount(), counting.freeCount(), counting::toString);
    }

    /**
     * A corpus: the source in 64 KiB files, each compressed by a fresh context at levels 1 to 9 and
     * decompressed by a fresh one, so that contexts of many sizes come and go; recorded as a trace.
     */
    @Test
    void aTraceOfCompressingACorpusReadsBackCompleteAndBalanced() throws Throwable {
        final int fileBytes = 64 << 10;
        java.nio.file.Path file = RecordedTrace.file("zstd");
        TrackingAllocator tracing = TrackingAllocator.builder(Smalloc.global()).traceTo(file).build();
        try (Arena arena = Arena.ofShared(); Arena buffers = Arena.ofConfined()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(tracing, BlockSizing.usableSize(Smalloc.global()), arena);
            long capacity = (long) COMPRESS_BOUND.invokeExact((long) fileBytes);
            MemorySegment compressed = buffers.allocate(capacity);
            MemorySegment output = buffers.allocate(fileBytes);
            for (long offset = 0; offset < source.byteSize(); offset += fileBytes) {
                MemorySegment input = source.asSlice(offset, fileBytes);
                int level = 1 + (int) (offset / fileBytes % 9);
                MemorySegment cctx = (MemorySegment) CREATE_CCTX_ADVANCED.invokeExact(functions.zstdCustomMem());
                long size;
                try {
                    size = checked((long) COMPRESS_CCTX.invokeExact(cctx, compressed, capacity, input, (long) fileBytes, level),
                            "ZSTD_compressCCtx");
                } finally {
                    checked((long) FREE_CCTX.invokeExact(cctx), "ZSTD_freeCCtx");
                }
                MemorySegment dctx = (MemorySegment) CREATE_DCTX_ADVANCED.invokeExact(functions.zstdCustomMem());
                try {
                    long back = checked((long) DECOMPRESS_DCTX.invokeExact(dctx, output, (long) fileBytes, compressed, size),
                            "ZSTD_decompressDCtx");
                    assertEquals(fileBytes, back);
                    assertEquals(-1, output.mismatch(input), "round trip of the file at " + offset);
                } finally {
                    checked((long) FREE_DCTX.invokeExact(dctx), "ZSTD_freeDCtx");
                }
            }
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
        tracing.close();
        RecordedTrace.Summary summary = RecordedTrace.assertCompleteAndBalanced(file, tracing);
        assertTrue(summary.allocations() >= 2 * SOURCE_BYTES / fileBytes, summary::toString);
    }

    @Test
    void zstdsOwnWorkerThreadsAllocateFromUsToo() throws Throwable {
        Set<Thread> allocatingThreads = ConcurrentHashMap.newKeySet();
        NativeAllocator threadRecording = new NativeAllocator() {
            @Override
            public long alloc(long byteSize, long byteAlignment) {
                allocatingThreads.add(Thread.currentThread());
                return Smalloc.global().alloc(byteSize, byteAlignment);
            }

            @Override
            public void dealloc(long address, long byteSize, long byteAlignment) {
                Smalloc.global().dealloc(address, byteSize, byteAlignment);
            }

            @Override
            public String name() {
                return "thread-recording:smalloc";
            }
        };
        CountingAllocator counting = CountingAllocator.of(threadRecording);
        // a confined arena's stubs too may be called on any thread: here zstd's own pthreads
        try (Arena arena = Arena.ofConfined(); Arena buffers = Arena.ofConfined()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(counting, BlockSizing.usableSize(Smalloc.global()), arena);
            MemorySegment cctx = (MemorySegment) CREATE_CCTX_ADVANCED.invokeExact(functions.zstdCustomMem());
            MemorySegment dctx = (MemorySegment) CREATE_DCTX_ADVANCED.invokeExact(functions.zstdCustomMem());
            try {
                checked((long) SET_PARAMETER.invokeExact(cctx, ZSTD_C_COMPRESSION_LEVEL, LEVEL), "compression level");
                checked((long) SET_PARAMETER.invokeExact(cctx, ZSTD_C_NB_WORKERS, 2),
                        "nbWorkers (is this libzstd built without multithreading?)");
                long capacity = (long) COMPRESS_BOUND.invokeExact(source.byteSize());
                MemorySegment compressed = buffers.allocate(capacity);
                long size = checked((long) COMPRESS2.invokeExact(cctx, compressed, capacity, source, source.byteSize()),
                        "ZSTD_compress2");
                assertDecompressesToTheSource(dctx, compressed.asSlice(0, size).toArray(JAVA_BYTE));
            } finally {
                checked((long) FREE_CCTX.invokeExact(cctx), "ZSTD_freeCCtx");
                checked((long) FREE_DCTX.invokeExact(dctx), "ZSTD_freeDCtx");
            }
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
        assertTrue(allocatingThreads.size() > 1, "threads that allocated: " + allocatingThreads);
        assertEquals(0, counting.liveBytes(), counting::toString);
        assertEquals(counting.allocationCount(), counting.freeCount(), counting::toString);
    }
}
