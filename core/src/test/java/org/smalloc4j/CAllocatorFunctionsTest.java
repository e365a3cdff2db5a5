package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * C's allocation functions over our allocators, called as C calls them: through downcalls into the
 * upcall stubs. Every case runs on each {@link Setup}: both sizings, over Smalloc and libc, bare and
 * under a counting decorator (whose live bytes must come back to 0).
 */
class CAllocatorFunctionsTest {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final long SIZE_MAX = -1L; // C's size_t all ones, as a Java long

    /** Allocators and sizings under test; each opens fresh heaps. */
    enum Setup {
        SMALLOC_NO_HEADER, COUNTING_SMALLOC_NO_HEADER, SMALLOC_HEADER, SYSTEM_HEADER, COUNTING_SYSTEM_HEADER;

        Fixture open() {
            return switch (this) {
                case SMALLOC_NO_HEADER -> {
                    Smalloc heap = smallHeap(true);
                    yield new Fixture(heap, heap, null, BlockSizing.forAllocator(heap));
                }
                case COUNTING_SMALLOC_NO_HEADER -> {
                    Smalloc heap = smallHeap(true);
                    CountingAllocator counting = CountingAllocator.of(heap);
                    yield new Fixture(heap, counting, counting, BlockSizing.usableSize(heap));
                }
                case SMALLOC_HEADER -> {
                    Smalloc heap = smallHeap(false);
                    CountingAllocator counting = CountingAllocator.of(heap);
                    yield new Fixture(heap, counting, counting, BlockSizing.header());
                }
                case SYSTEM_HEADER -> new Fixture(null, new SystemAllocator(), null, BlockSizing.forAllocator(new SystemAllocator()));
                case COUNTING_SYSTEM_HEADER -> {
                    CountingAllocator counting = CountingAllocator.of(new SystemAllocator());
                    yield new Fixture(null, counting, counting, BlockSizing.forAllocator(counting));
                }
            };
        }

        boolean hasHeader() {
            return this == SMALLOC_HEADER || this == SYSTEM_HEADER || this == COUNTING_SYSTEM_HEADER;
        }
    }

    /** A small heap: 4 slabs of 256 MiB, slots up to 64 MiB. */
    static Smalloc smallHeap(boolean checked) {
        return Smalloc.builder().slabsPerClass(4).slabBytes(1L << 28).largestSlot(1L << 26).checked(checked).build();
    }

    /** What a case needs: the heap to close (or null), the allocator, its counter (or null), the sizing. */
    record Fixture(Smalloc heap, NativeAllocator allocator, CountingAllocator counting, BlockSizing sizing) {
    }

    private final Arena arena = Arena.ofShared();
    private final List<Smalloc> heaps = new ArrayList<>();

    @AfterEach
    void closeAll() {
        arena.close();
        heaps.forEach(Smalloc::close);
    }

    private C open(Setup setup) {
        Fixture fixture = setup.open();
        if (fixture.heap() != null) {
            heaps.add(fixture.heap());
        }
        assertEquals(setup.hasHeader() ? BlockSizing.HEADER_BYTES : 0, fixture.sizing().headerBytes());
        return new C(CAllocatorFunctions.of(fixture.allocator(), fixture.sizing(), arena), fixture.counting());
    }

    /** The functions as C sees them: downcalls into the stubs. */
    static final class C {
        final CAllocatorFunctions functions;
        final CountingAllocator counting;
        private final MethodHandle malloc, free, realloc, calloc;
        private final MethodHandle xMalloc, xFree, xRealloc, xSize, xRoundup, xInit, xShutdown;
        private final MethodHandle customAlloc, customFree;

        C(CAllocatorFunctions functions, CountingAllocator counting) {
            this.functions = functions;
            this.counting = counting;
            malloc = LINKER.downcallHandle(functions.mallocFunction(), FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
            free = LINKER.downcallHandle(functions.freeFunction(), FunctionDescriptor.ofVoid(JAVA_LONG));
            realloc = LINKER.downcallHandle(functions.reallocFunction(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
            calloc = LINKER.downcallHandle(functions.callocFunction(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
            MemorySegment methods = functions.sqliteMemMethods();
            xMalloc = LINKER.downcallHandle(methods.getAtIndex(ADDRESS, 0), FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
            xFree = LINKER.downcallHandle(methods.getAtIndex(ADDRESS, 1), FunctionDescriptor.ofVoid(JAVA_LONG));
            xRealloc = LINKER.downcallHandle(methods.getAtIndex(ADDRESS, 2),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT));
            xSize = LINKER.downcallHandle(methods.getAtIndex(ADDRESS, 3), FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
            xRoundup = LINKER.downcallHandle(methods.getAtIndex(ADDRESS, 4), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            xInit = LINKER.downcallHandle(methods.getAtIndex(ADDRESS, 5), FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
            xShutdown = LINKER.downcallHandle(methods.getAtIndex(ADDRESS, 6), FunctionDescriptor.ofVoid(JAVA_LONG));
            MemorySegment customMem = functions.zstdCustomMem();
            customAlloc = LINKER.downcallHandle(customMem.get(ADDRESS, 0),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
            customFree = LINKER.downcallHandle(customMem.get(ADDRESS, 8), FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG));
        }

        long malloc(long size) throws Throwable {
            return (long) malloc.invokeExact(size);
        }

        void free(long pointer) throws Throwable {
            free.invokeExact(pointer);
        }

        long realloc(long pointer, long size) throws Throwable {
            return (long) realloc.invokeExact(pointer, size);
        }

        long calloc(long count, long size) throws Throwable {
            return (long) calloc.invokeExact(count, size);
        }

        long xMalloc(int size) throws Throwable {
            return (long) xMalloc.invokeExact(size);
        }

        void xFree(long pointer) throws Throwable {
            xFree.invokeExact(pointer);
        }

        long xRealloc(long pointer, int size) throws Throwable {
            return (long) xRealloc.invokeExact(pointer, size);
        }

        int xSize(long pointer) throws Throwable {
            return (int) xSize.invokeExact(pointer);
        }

        int xRoundup(int size) throws Throwable {
            return (int) xRoundup.invokeExact(size);
        }

        int xInit() throws Throwable {
            return (int) xInit.invokeExact(0L);
        }

        void xShutdown() throws Throwable {
            xShutdown.invokeExact(0L);
        }

        long customAlloc(long opaque, long size) throws Throwable {
            return (long) customAlloc.invokeExact(opaque, size);
        }

        void customFree(long opaque, long pointer) throws Throwable {
            customFree.invokeExact(opaque, pointer);
        }

        long failures() {
            return functions.failureCount();
        }

        void assertAllFreed() {
            if (counting != null) {
                assertEquals(0, counting.liveBytes(), "live bytes: " + counting);
                assertEquals(counting.allocationCount(), counting.freeCount(), "allocations vs frees: " + counting);
            }
        }
    }

    private static MemorySegment at(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }

    private static void fillPattern(long address, long byteSize, int seed) {
        MemorySegment block = at(address, byteSize);
        for (long i = 0; i < byteSize; i++) {
            block.set(JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
    }

    private static void assertPattern(long address, long byteSize, int seed) {
        MemorySegment block = at(address, byteSize);
        for (long i = 0; i < byteSize; i++) {
            if (block.get(JAVA_BYTE, i) != (byte) (i * 31 + seed)) {
                assertEquals((byte) (i * 31 + seed), block.get(JAVA_BYTE, i), "byte " + i + " of " + byteSize);
            }
        }
    }

    private static void assertZero(long address, long byteSize) {
        assertEquals(-1, at(address, byteSize).mismatch(MemorySegment.ofArray(new byte[(int) byteSize])),
                "the block is not all zero");
    }

    private static final long[] SIZES = {0, 1, 7, 15, 16, 17, 100, 1000, 4096, 65_537, 1 << 20};

    // ---------------------------------------------------------------- C's functions, every setup

    @ParameterizedTest
    @EnumSource(Setup.class)
    void mallocGivesDistinct16AlignedBlocksThatFreeGivesBack(Setup setup) throws Throwable {
        C c = open(setup);
        long[] pointers = new long[SIZES.length];
        Set<Long> distinct = new HashSet<>();
        for (int i = 0; i < SIZES.length; i++) {
            pointers[i] = c.malloc(SIZES[i]);
            assertNotEquals(0, pointers[i], "malloc(" + SIZES[i] + ")");
            assertEquals(0, pointers[i] % 16, "C's malloc aligns to max_align_t");
            assertTrue(distinct.add(pointers[i]), "distinct blocks");
            fillPattern(pointers[i], SIZES[i], i);
        }
        for (int i = 0; i < SIZES.length; i++) {
            assertPattern(pointers[i], SIZES[i], i);
            c.free(pointers[i]);
        }
        c.free(0); // free(NULL)
        assertEquals(0, c.failures(), () -> c.functions.lastFailure().toString());
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void callocZeroesEvenReusedMemory(Setup setup) throws Throwable {
        C c = open(setup);
        for (long size : new long[] {8, 64, 100, 4096, 70_000}) {
            long dirty = c.malloc(size);
            at(dirty, size).fill((byte) 0xff);
            c.free(dirty);
            long zeroed = c.calloc(size / 4, 4);
            assertNotEquals(0, zeroed);
            assertZero(zeroed, size);
            c.free(zeroed);
        }
        long empty = c.calloc(0, 5);
        assertNotEquals(0, empty, "calloc of 0 bytes is a freeable block");
        c.free(empty);
        assertEquals(0, c.failures());
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void callocOverflowAndHugeRequestsReturnNullAndAreRecorded(Setup setup) throws Throwable {
        C c = open(setup);
        assertEquals(0, c.calloc(1L << 33, 1L << 33), "count * size overflows size_t");
        assertEquals(1, c.failures());
        assertInstanceOf(OutOfMemoryError.class, c.functions.lastFailure().orElseThrow());
        assertEquals(0, c.calloc(SIZE_MAX, 1));
        assertEquals(0, c.malloc(SIZE_MAX));
        assertTrue(c.functions.lastFailure().orElseThrow().getMessage().contains("18446744073709551615"),
                () -> c.functions.lastFailure().toString());
        assertEquals(0, c.malloc(Long.MAX_VALUE));
        assertEquals(0, c.malloc(Long.MAX_VALUE - 8), "the header's 16 bytes must not overflow");
        assertEquals(0, c.xMalloc(-1), "SQLite's negative int");
        assertEquals(6, c.failures());
        assertTrue(c.functions.lastFailure().orElseThrow().getMessage().contains(c.functions.allocator().name()),
                "the failure names the allocator");
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void reallocKeepsContentWhileGrowingAndShrinking(Setup setup) throws Throwable {
        C c = open(setup);
        long pointer = c.realloc(0, 10); // realloc(NULL, n) is malloc(n)
        assertNotEquals(0, pointer);
        fillPattern(pointer, 10, 3);
        long kept = 10;
        for (long size : new long[] {100, 5000, 200_000, 3_000_000, 50, 4}) {
            pointer = c.realloc(pointer, size);
            assertNotEquals(0, pointer, "realloc to " + size);
            assertEquals(0, pointer % 16);
            kept = Math.min(kept, size);
            assertPattern(pointer, kept, 3);
            fillPattern(pointer, size, 3);
            kept = size;
        }
        c.free(pointer);
        assertEquals(0, c.failures(), () -> c.functions.lastFailure().toString());
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void reallocToZeroFreesAndReturnsNullAsGlibcDoes(Setup setup) throws Throwable {
        C c = open(setup);
        long pointer = c.malloc(100);
        assertEquals(0, c.realloc(pointer, 0));
        assertEquals(0, c.failures(), "not a failure");
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void failedReallocLeavesTheBlockAllocatedAndIntact(Setup setup) throws Throwable {
        C c = open(setup);
        long pointer = c.malloc(100);
        fillPattern(pointer, 100, 9);
        assertEquals(0, c.realloc(pointer, SIZE_MAX));
        assertEquals(0, c.realloc(pointer, Long.MAX_VALUE));
        assertEquals(2, c.failures());
        assertPattern(pointer, 100, 9);
        c.free(pointer);
        assertEquals(2, c.failures());
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void sqliteMethodsAnswerUsableSizes(Setup setup) throws Throwable {
        C c = open(setup);
        assertEquals(0, c.xInit());
        long expected100 = setup.hasHeader() ? 112 : 128; // header: 16-byte multiples; Smalloc: the slot
        assertEquals(expected100, c.xRoundup(100));
        long pointer = c.xMalloc(c.xRoundup(100));
        assertNotEquals(0, pointer);
        assertEquals(expected100, c.xSize(pointer), "xSize is the usable size");
        fillPattern(pointer, expected100, 5);
        pointer = c.xRealloc(pointer, c.xRoundup(3000));
        assertNotEquals(0, pointer);
        assertTrue(c.xSize(pointer) >= 3000);
        assertPattern(pointer, expected100, 5);
        assertEquals(0, c.xSize(0));
        assertEquals(Integer.MAX_VALUE, c.xRoundup(Integer.MAX_VALUE), "no int overflow");
        c.xFree(pointer);
        c.xFree(0);
        c.xShutdown();
        assertEquals(0, c.failures(), () -> c.functions.lastFailure().toString());
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void zstdFunctionsIgnoreTheirOpaqueArgument(Setup setup) throws Throwable {
        C c = open(setup);
        MemorySegment customMem = c.functions.zstdCustomMem();
        assertEquals(CAllocatorFunctions.ZSTD_CUSTOM_MEM.byteSize(), customMem.byteSize());
        assertEquals(0, customMem.get(ADDRESS, 16).address(), "opaque is NULL");
        long pointer = c.customAlloc(0x1234, 5000);
        assertNotEquals(0, pointer);
        fillPattern(pointer, 5000, 1);
        assertPattern(pointer, 5000, 1);
        c.customFree(0x1234, pointer);
        c.customFree(0, 0);
        assertEquals(0, c.failures());
        c.assertAllFreed();
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void exactSizesReachTheDecorator(Setup setup) throws Throwable {
        C c = open(setup);
        if (c.counting == null) {
            return;
        }
        long pointer = c.malloc(100);
        long expected = setup.hasHeader() ? 100 + BlockSizing.HEADER_BYTES : 128;
        assertEquals(expected, c.counting.liveBytes(), "the size allocated is what free will declare");
        c.free(pointer);
        c.assertAllFreed();
    }

    // ---------------------------------------------------------------- pointers C should not pass

    @Test
    void smallocCatchesForeignInteriorAndDoubleFreesWithoutCrashing() throws Throwable {
        C c = open(Setup.SMALLOC_NO_HEADER); // a checked heap
        long pointer = c.malloc(64);
        fillPattern(pointer, 64, 2);
        long foreign;
        try (Arena confined = Arena.ofConfined()) {
            foreign = confined.allocate(64, 16).address();
            c.free(foreign);
        }
        c.free(0x10);                      // unmapped, low
        c.free(pointer + 16);              // interior
        c.free(Long.MIN_VALUE);            // kernel half
        assertEquals(0, c.realloc(foreign, 10));
        assertEquals(0, c.xSize(pointer + 16));
        assertEquals(6, c.failures());
        Throwable last = c.functions.lastFailure().orElseThrow();
        assertInstanceOf(IllegalArgumentException.class, last);
        assertTrue(last.getMessage().contains(Long.toHexString(pointer + 16)), last::getMessage);
        assertPattern(pointer, 64, 2); // blocks already allocated keep their contents
        c.free(pointer);
        assertEquals(6, c.failures());
        c.free(pointer);                   // double free: the checked heap tells
        assertEquals(7, c.failures());
        assertInstanceOf(IllegalArgumentException.class, c.functions.lastFailure().orElseThrow());
    }

    @Test
    void headerCatchesMisalignedStrayAndDoubleFreedPointersItCanRead() throws Throwable {
        C c = open(Setup.SMALLOC_HEADER); // header over an unchecked heap: the check word alone tells
        long pointer = c.malloc(64);
        c.free(pointer + 1);                // misaligned: refused without reading
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment stray = confined.allocate(64, 16); // readable, zeros before its +16
            c.free(stray.address() + 16);
            assertEquals(0, stray.get(JAVA_LONG, 0), "nothing written into a stray header");
        }
        assertEquals(2, c.failures());
        assertTrue(c.functions.lastFailure().orElseThrow().getMessage().contains("check word"));
        c.free(pointer);
        c.assertAllFreed();
        c.free(pointer);                    // its check word was cleared: caught before the heap sees it
        assertEquals(3, c.failures());
        c.assertAllFreed();
    }

    // ---------------------------------------------------------------- failures inside the allocator

    @Test
    void aClosedHeapsExceptionsStayInJava() throws Throwable {
        Smalloc heap = smallHeap(false);
        C c = new C(CAllocatorFunctions.of(heap, arena), null);
        long pointer = c.malloc(32);
        heap.close();
        assertEquals(0, c.malloc(32));
        c.free(pointer);
        assertEquals(0, c.xSize(pointer));
        assertEquals(3, c.failures());
        assertInstanceOf(IllegalStateException.class, c.functions.lastFailure().orElseThrow());
    }

    @Test
    void usableSizeOverAnAllocatorOutsideTheHeapFailsAndGivesTheBlockBack() throws Throwable {
        Smalloc heap = smallHeap(false);
        heaps.add(heap);
        CountingAllocator system = CountingAllocator.of(new SystemAllocator());
        C c = new C(CAllocatorFunctions.of(system, BlockSizing.usableSize(heap), arena), system);
        assertEquals(0, c.malloc(32));
        assertEquals(1, c.failures());
        assertTrue(c.functions.lastFailure().orElseThrow().getMessage().contains("not a block of heap"));
        assertEquals(1, system.allocationCount());
        c.assertAllFreed();
    }

    @Test
    void aBlockServedFromALargerClassIsDeclaredAtItsSlotSize() throws Throwable {
        // one 64-byte slab per class: four 16-byte slots, then requests overflow to 32-byte slots
        Smalloc heap = Smalloc.builder().slabsPerClass(1).slabBytes(64).largestSlot(64).build();
        heaps.add(heap);
        CountingAllocator counting = CountingAllocator.of(heap);
        C c = new C(CAllocatorFunctions.of(counting, BlockSizing.usableSize(heap), arena), counting);
        long[] pointers = new long[5];
        for (int i = 0; i < pointers.length; i++) {
            pointers[i] = c.malloc(16);
            assertNotEquals(0, pointers[i]);
        }
        assertEquals(32, heap.usableSize(pointers[4]), "the fifth overflowed");
        assertEquals(32, c.xSize(pointers[4]));
        assertEquals(4 * 16 + 32, counting.liveBytes());
        assertEquals(1, counting.reallocCount(), "declared at its slot size");
        for (long pointer : pointers) {
            c.free(pointer);
        }
        assertEquals(0, c.failures());
        c.assertAllFreed();
    }

    @Test
    void anAllocatorThrowingAnythingIsRecordedNotPropagated() throws Throwable {
        NativeAllocator broken = new NativeAllocator() {
            @Override
            public long alloc(long byteSize, long byteAlignment) {
                throw new UnsupportedOperationException("broken alloc");
            }

            @Override
            public void dealloc(long address, long byteSize, long byteAlignment) {
                throw new AssertionError("broken dealloc");
            }

            @Override
            public String name() {
                return "broken";
            }
        };
        C c = new C(CAllocatorFunctions.of(broken, arena), null);
        assertEquals(0, c.malloc(10));
        assertEquals(0, c.calloc(1, 10));
        assertInstanceOf(UnsupportedOperationException.class, c.functions.lastFailure().orElseThrow());
        // a block with a valid header (same format), so that free reaches the broken allocator
        C system = new C(CAllocatorFunctions.of(new SystemAllocator(), arena), null);
        long pointer = system.malloc(16);
        c.free(pointer);
        assertInstanceOf(AssertionError.class, c.functions.lastFailure().orElseThrow());
        system.free(pointer); // the refused free left its header intact: still freeable
        assertEquals(0, system.failures());
        assertEquals(3, c.failures());
    }

    // ---------------------------------------------------------------- API

    @Test
    void stubsAreMadeOnceAndArgumentsChecked() {
        CAllocatorFunctions functions = CAllocatorFunctions.of(Smalloc.global(), arena);
        assertSame(functions.mallocFunction(), functions.mallocFunction());
        assertSame(functions.sqliteMemMethods(), functions.sqliteMemMethods());
        assertSame(functions.zstdCustomMem(), functions.zstdCustomMem());
        assertEquals(functions.freeFunction().address(), functions.sqliteMemMethods().getAtIndex(ADDRESS, 1).address());
        assertTrue(functions.sqliteMemMethods().isReadOnly());
        assertEquals(64, CAllocatorFunctions.SQLITE3_MEM_METHODS.byteSize());
        assertEquals(24, CAllocatorFunctions.ZSTD_CUSTOM_MEM.byteSize());
        assertEquals("BlockSizing.usableSize(smalloc)", functions.sizing().toString());
        assertEquals("BlockSizing.header()", CAllocatorFunctions.of(new SystemAllocator(), arena).sizing().toString());
        assertThrows(IllegalArgumentException.class, () -> CAllocatorFunctions.of(null, arena));
        assertThrows(IllegalArgumentException.class, () -> CAllocatorFunctions.of(Smalloc.global(), null));
        assertThrows(IllegalArgumentException.class,
                () -> CAllocatorFunctions.of(Smalloc.global(), null, arena));
        assertThrows(IllegalArgumentException.class, () -> BlockSizing.usableSize(null));
        assertEquals(0, functions.failureCount());
        assertTrue(functions.lastFailure().isEmpty());
    }
}
