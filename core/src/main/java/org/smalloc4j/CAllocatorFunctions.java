package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * C's allocation functions over any {@link NativeAllocator}, as native function pointers (FFM upcall
 * stubs) that C libraries can be given for their memory: the shapes of {@code malloc},
 * {@code free}, {@code realloc} and {@code calloc}; zstd's {@code ZSTD_customMem} (an allocation
 * pair that takes an opaque pointer first, a shape other libraries share); SQLite's
 * {@code sqlite3_mem_methods}.
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofShared()) {                 // owns the stubs: keep it open while C may call them
 *     CAllocatorFunctions c = CAllocatorFunctions.of(Smalloc.global(), arena);
 *     MemorySegment customMem = c.zstdCustomMem();        // pass by value to ZSTD_createCCtx_advanced
 *     MemorySegment memMethods = c.sqliteMemMethods();    // sqlite3_config(SQLITE_CONFIG_MALLOC, memMethods)
 * }
 * }</pre>
 *
 * <p><b>Sizes.</b> C's {@code free} and {@code realloc} pass no size; the allocator's
 * {@link NativeAllocator#dealloc} needs it. A {@link BlockSizing} finds it: from the address itself
 * for a Smalloc heap (no header), or from a 16-byte header in front of each block for any other
 * allocator. Every block is 16-byte aligned (C's {@code max_align_t}) and allocated with alignment
 * {@value BlockSizing#ALIGNMENT}.
 *
 * <p><b>C's semantics.</b> {@code malloc(0)} returns a distinct, freeable block. {@code free(NULL)}
 * does nothing. {@code realloc(NULL, n)} is {@code malloc(n)}; {@code realloc(p, 0)} frees {@code p}
 * and returns NULL, as glibc's does. A failed {@code realloc} returns NULL and leaves the block
 * allocated and intact. {@code calloc} returns NULL when {@code count * size} overflows
 * {@code size_t}. Sizes of {@code size_t} are unsigned: those of 2^63 and more cannot be met and
 * return NULL.
 *
 * <p><b>No exception reaches C.</b> An exception thrown out of an upcall would end the JVM, so every
 * function catches everything: an allocation that fails returns NULL, a free that is refused does
 * nothing, a size query returns 0. Each failure is counted ({@link #failureCount()}) and the last one
 * kept ({@link #lastFailure()}): exhaustion as an {@link OutOfMemoryError} naming the allocator and
 * the size, a pointer the allocator refuses as its {@link IllegalArgumentException}. So
 * {@code free} of a foreign or interior pointer is caught and recorded wherever the allocator or the
 * sizing can tell (always with a Smalloc heap; see {@link BlockSizing} for the header's limits), and
 * never crashes the JVM there. (A {@link StackOverflowError} raised by the JVM before the Java code
 * of an upcall starts cannot be caught by it; the stubs need little stack.)
 *
 * <p><b>Lifetime.</b> The stubs and structs are allocated in the {@link Arena} given; they work on
 * every thread, including threads C created. Calling a stub after its arena has closed crashes the
 * process: keep the arena open until the C library can no longer call (for SQLite, until
 * {@code sqlite3_shutdown} and a new {@code sqlite3_config}; for zstd, until every context made with
 * the {@code ZSTD_customMem} is freed). Stubs are made on first request and then handed out again.
 *
 * <p><b>Costs.</b> A call from C is an upcall (a thread-state transition into Java and back, tens of
 * nanoseconds) plus the allocator's own work; pointers and sizes cross as {@code long}, so the
 * functions allocate nothing on the Java heap but when they record a failure.
 */
public final class CAllocatorFunctions {

    /**
     * zstd's {@code ZSTD_customMem}, passed by value to {@code ZSTD_createCCtx_advanced},
     * {@code ZSTD_createDCtx_advanced} and the other {@code *_advanced} constructors:
     * {@code { void* (*customAlloc)(void* opaque, size_t size); void (*customFree)(void* opaque, void* address); void* opaque; }}.
     */
    public static final StructLayout ZSTD_CUSTOM_MEM = MemoryLayout.structLayout(
            ADDRESS.withName("customAlloc"),
            ADDRESS.withName("customFree"),
            ADDRESS.withName("opaque")).withName("ZSTD_customMem");

    /**
     * SQLite's {@code sqlite3_mem_methods}, given by pointer to
     * {@code sqlite3_config(SQLITE_CONFIG_MALLOC, …)}: {@code xMalloc(int)}, {@code xFree(void*)},
     * {@code xRealloc(void*, int)}, {@code xSize(void*)}, {@code xRoundup(int)}, {@code xInit(void*)},
     * {@code xShutdown(void*)}, {@code pAppData}.
     */
    public static final StructLayout SQLITE3_MEM_METHODS = MemoryLayout.structLayout(
            ADDRESS.withName("xMalloc"),
            ADDRESS.withName("xFree"),
            ADDRESS.withName("xRealloc"),
            ADDRESS.withName("xSize"),
            ADDRESS.withName("xRoundup"),
            ADDRESS.withName("xInit"),
            ADDRESS.withName("xShutdown"),
            ADDRESS.withName("pAppData")).withName("sqlite3_mem_methods");

    // pointers and size_t cross as long: the same 64-bit register on LP64 (checked below)
    private static final FunctionDescriptor MALLOC_SHAPE = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor FREE_SHAPE = FunctionDescriptor.ofVoid(JAVA_LONG);
    private static final FunctionDescriptor REALLOC_SHAPE = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor CALLOC_SHAPE = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor OPAQUE_ALLOC_SHAPE = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor OPAQUE_FREE_SHAPE = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG);
    private static final FunctionDescriptor SQLITE_MALLOC_SHAPE = FunctionDescriptor.of(JAVA_LONG, JAVA_INT);
    private static final FunctionDescriptor SQLITE_REALLOC_SHAPE = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT);
    private static final FunctionDescriptor SQLITE_SIZE_SHAPE = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);
    private static final FunctionDescriptor SQLITE_ROUNDUP_SHAPE = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
    private static final FunctionDescriptor SQLITE_INIT_SHAPE = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);
    private static final FunctionDescriptor SQLITE_SHUTDOWN_SHAPE = FunctionDescriptor.ofVoid(JAVA_LONG);

    private static final int SQLITE_OK = 0;

    static {
        if (ValueLayout.ADDRESS.byteSize() != Long.BYTES) {
            throw new ExceptionInInitializerError("CAllocatorFunctions needs a 64-bit platform, this one has "
                    + ValueLayout.ADDRESS.byteSize() + "-byte pointers");
        }
    }

    private final NativeAllocator allocator;
    private final BlockSizing sizing;
    private final Arena arena;
    private final AtomicLong failures = new AtomicLong();
    private volatile Throwable lastFailure;

    // made on first request, guarded by this
    private MemorySegment mallocStub, freeStub, reallocStub, callocStub, opaqueAllocStub, opaqueFreeStub;
    private MemorySegment zstdCustomMem, sqliteMemMethods;

    private CAllocatorFunctions(NativeAllocator allocator, BlockSizing sizing, Arena arena) {
        this.allocator = allocator;
        this.sizing = sizing;
        this.arena = arena;
    }

    /**
     * C's functions over {@code allocator}, sized by {@link BlockSizing#forAllocator}: no header for
     * a {@link Smalloc}, a 16-byte header otherwise.
     *
     * @param arena owns the stubs and structs; C must not call them after it closes
     * @throws IllegalArgumentException if an argument is null
     */
    public static CAllocatorFunctions of(NativeAllocator allocator, Arena arena) {
        if (allocator == null) {
            throw new IllegalArgumentException("allocator is null");
        }
        return of(allocator, BlockSizing.forAllocator(allocator), arena);
    }

    /**
     * C's functions over {@code allocator}, finding block sizes with {@code sizing}: for example
     * {@code BlockSizing.usableSize(Smalloc.global())} for a tracking allocator over the global heap.
     *
     * @param arena owns the stubs and structs; C must not call them after it closes
     * @throws IllegalArgumentException if an argument is null
     */
    public static CAllocatorFunctions of(NativeAllocator allocator, BlockSizing sizing, Arena arena) {
        if (allocator == null || sizing == null || arena == null) {
            throw new IllegalArgumentException("allocator, sizing and arena must not be null (" + allocator + ", "
                    + sizing + ", " + arena + ")");
        }
        return new CAllocatorFunctions(allocator, sizing, arena);
    }

    // ---------------------------------------------------------------- function pointers

    /** {@code void* malloc(size_t size)}. */
    public synchronized MemorySegment mallocFunction() {
        return mallocStub != null ? mallocStub : (mallocStub = stub("malloc", MALLOC_SHAPE));
    }

    /** {@code void free(void* pointer)}. */
    public synchronized MemorySegment freeFunction() {
        return freeStub != null ? freeStub : (freeStub = stub("free", FREE_SHAPE));
    }

    /** {@code void* realloc(void* pointer, size_t size)}. */
    public synchronized MemorySegment reallocFunction() {
        return reallocStub != null ? reallocStub : (reallocStub = stub("realloc", REALLOC_SHAPE));
    }

    /** {@code void* calloc(size_t count, size_t size)}: zero-filled. */
    public synchronized MemorySegment callocFunction() {
        return callocStub != null ? callocStub : (callocStub = stub("calloc", CALLOC_SHAPE));
    }

    /**
     * {@code void* alloc(void* opaque, size_t size)}: {@code malloc} with an opaque first argument,
     * which it ignores (zstd's {@code ZSTD_allocFunction}).
     */
    public synchronized MemorySegment opaqueAllocFunction() {
        return opaqueAllocStub != null ? opaqueAllocStub : (opaqueAllocStub = stub("opaqueAlloc", OPAQUE_ALLOC_SHAPE));
    }

    /**
     * {@code void free(void* opaque, void* address)}: {@code free} with an opaque first argument,
     * which it ignores (zstd's {@code ZSTD_freeFunction}).
     */
    public synchronized MemorySegment opaqueFreeFunction() {
        return opaqueFreeStub != null ? opaqueFreeStub : (opaqueFreeStub = stub("opaqueFree", OPAQUE_FREE_SHAPE));
    }

    /**
     * A {@link #ZSTD_CUSTOM_MEM} struct in the arena: {@link #opaqueAllocFunction()},
     * {@link #opaqueFreeFunction()}, opaque NULL. Pass it by value (a downcall whose descriptor has
     * {@link #ZSTD_CUSTOM_MEM} as the parameter's layout).
     */
    public synchronized MemorySegment zstdCustomMem() {
        if (zstdCustomMem == null) {
            MemorySegment struct = arena.allocate(ZSTD_CUSTOM_MEM);
            struct.set(ADDRESS, 0, opaqueAllocFunction());
            struct.set(ADDRESS, ADDRESS.byteSize(), opaqueFreeFunction());
            struct.set(ADDRESS, 2 * ADDRESS.byteSize(), MemorySegment.NULL);
            zstdCustomMem = struct.asReadOnly();
        }
        return zstdCustomMem;
    }

    /**
     * A {@link #SQLITE3_MEM_METHODS} struct in the arena, for
     * {@code sqlite3_config(SQLITE_CONFIG_MALLOC, struct)} (variadic: the struct's address is the
     * first variadic argument). {@code xSize} answers the usable size (Smalloc: the slot size; header:
     * the size asked for), {@code xRoundup} the usable size a request would get (at most
     * {@code INT_MAX}), {@code xInit} and {@code xShutdown} do nothing, {@code pAppData} is NULL.
     */
    public synchronized MemorySegment sqliteMemMethods() {
        if (sqliteMemMethods == null) {
            MemorySegment[] functions = {
                    stub("sqliteMalloc", SQLITE_MALLOC_SHAPE),
                    freeFunction(),
                    stub("sqliteRealloc", SQLITE_REALLOC_SHAPE),
                    stub("sqliteSize", SQLITE_SIZE_SHAPE),
                    stub("sqliteRoundup", SQLITE_ROUNDUP_SHAPE),
                    stub("sqliteInit", SQLITE_INIT_SHAPE),
                    stub("sqliteShutdown", SQLITE_SHUTDOWN_SHAPE),
                    MemorySegment.NULL};
            MemorySegment struct = arena.allocate(SQLITE3_MEM_METHODS);
            for (int i = 0; i < functions.length; i++) {
                struct.setAtIndex(ADDRESS, i, functions[i]);
            }
            sqliteMemMethods = struct.asReadOnly();
        }
        return sqliteMemMethods;
    }

    // ---------------------------------------------------------------- observing

    /** The allocator the functions allocate from. */
    public NativeAllocator allocator() {
        return allocator;
    }

    /** How the functions find a block's size. */
    public BlockSizing sizing() {
        return sizing;
    }

    /** Calls that failed since creation: NULL returned for want of memory, or a pointer refused. */
    public long failureCount() {
        return failures.get();
    }

    /** The most recent failure: {@link OutOfMemoryError} for exhaustion, else what the allocator threw. */
    public Optional<Throwable> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    @Override
    public String toString() {
        return "CAllocatorFunctions[" + allocator.name() + ", " + sizing + ", " + failures.get() + " failures]";
    }

    // ---------------------------------------------------------------- the upcalls: nothing escapes

    private long malloc(long size) {
        try {
            return allocate("malloc", size, false);
        } catch (Throwable t) {
            recordFailure(t);
            return 0;
        }
    }

    private void free(long pointer) {
        try {
            if (pointer != 0) {
                sizing.free(allocator, pointer);
            }
        } catch (Throwable t) {
            recordFailure(t);
        }
    }

    private long realloc(long pointer, long size) {
        try {
            return reallocate("realloc", pointer, size);
        } catch (Throwable t) {
            recordFailure(t);
            return 0;
        }
    }

    private long calloc(long count, long size) {
        try {
            long byteSize = count * size;
            if (Math.unsignedMultiplyHigh(count, size) != 0 || byteSize < 0) {
                return exhausted("calloc", Long.toUnsignedString(count) + " x " + Long.toUnsignedString(size)
                        + " bytes (overflows size_t or exceeds 2^63 - 1)");
            }
            return allocate("calloc", byteSize, true);
        } catch (Throwable t) {
            recordFailure(t);
            return 0;
        }
    }

    private long opaqueAlloc(long opaque, long size) {
        try {
            return allocate("customAlloc", size, false);
        } catch (Throwable t) {
            recordFailure(t);
            return 0;
        }
    }

    private void opaqueFree(long opaque, long pointer) {
        free(pointer);
    }

    private long sqliteMalloc(int size) {
        try {
            return allocate("xMalloc", size, false);
        } catch (Throwable t) {
            recordFailure(t);
            return 0;
        }
    }

    private long sqliteRealloc(long pointer, int size) {
        try {
            return reallocate("xRealloc", pointer, size);
        } catch (Throwable t) {
            recordFailure(t);
            return 0;
        }
    }

    private int sqliteSize(long pointer) {
        try {
            return pointer == 0 ? 0 : (int) Math.min(sizing.usableSize(pointer), Integer.MAX_VALUE);
        } catch (Throwable t) {
            recordFailure(t);
            return 0;
        }
    }

    private int sqliteRoundup(int size) {
        try {
            long rounded = size <= 0 ? size : sizing.roundUp(size);
            return rounded > Integer.MAX_VALUE ? size : (int) rounded;
        } catch (Throwable t) {
            recordFailure(t);
            return size;
        }
    }

    private int sqliteInit(long appData) {
        return SQLITE_OK;
    }

    private void sqliteShutdown(long appData) {
    }

    // ---------------------------------------------------------------- C's semantics over the sizing

    /** {@code size} is C's: unsigned (a negative long is 2^63 or more), or a negative int from SQLite. */
    private long allocate(String function, long size, boolean zeroed) {
        if (size < 0) {
            return exhausted(function, Long.toUnsignedString(size) + " bytes");
        }
        long pointer = sizing.allocate(allocator, size, zeroed);
        return pointer != 0 ? pointer : exhausted(function, size + " bytes");
    }

    private long reallocate(String function, long pointer, long size) {
        if (pointer == 0) {
            return allocate(function, size, false);
        }
        if (size == 0) {
            sizing.free(allocator, pointer); // glibc's realloc(p, 0): frees p, returns NULL
            return 0;
        }
        if (size < 0) {
            return exhausted(function, Long.toUnsignedString(size) + " bytes");
        }
        long moved = sizing.reallocate(allocator, pointer, size);
        return moved != 0 ? moved : exhausted(function, size + " bytes");
    }

    /** Records exhaustion and returns C's NULL. */
    private long exhausted(String function, String what) {
        recordFailure(new OutOfMemoryError(function + ": allocator '" + allocator.name() + "' could not allocate " + what));
        return 0;
    }

    /** Allocates nothing but what a caller already made: safe on an exhausted heap. */
    private void recordFailure(Throwable failure) {
        lastFailure = failure;
        failures.incrementAndGet();
    }

    // ---------------------------------------------------------------- stubs

    private MemorySegment stub(String method, FunctionDescriptor shape) {
        assert Thread.holdsLock(this);
        MethodType type = shape.toMethodType();
        MethodHandle target;
        try {
            target = MethodHandles.lookup().findVirtual(CAllocatorFunctions.class, method, type).bindTo(this);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("upcall target " + method + type, e);
        }
        return Linker.nativeLinker().upcallStub(target, shape, arena);
    }
}
