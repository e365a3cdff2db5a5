package org.smalloc4j;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import org.smalloc4j.internal.Checks;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C library's allocator ({@code malloc}, {@code calloc}, {@code realloc}, {@code aligned_alloc},
 * {@code free}) through FFM downcalls: the baseline every other allocator is measured against, and
 * the allocator of choice where memory is shared with C code that frees it.
 *
 * <p><b>Guarantees.</b> Alignments up to 16 bytes go straight to {@code malloc}, {@code calloc} and
 * {@code realloc}, which on glibc (x86-64, AArch64) return 16-byte aligned blocks. Larger alignments
 * use {@code aligned_alloc}; {@link #allocZeroed} then fills the block with zeros, and
 * {@link #realloc} allocates a new aligned block, copies and frees the old one, because C's
 * {@code realloc} does not keep an alignment above 16. A size of 0 asks C for 1 byte, so every
 * zero-size block is a distinct, freeable block on every libc. A request that no 64-bit Linux process
 * could hold (more than 2^56 bytes with its alignment, see {@link #MAX_REQUEST}) returns 0 without
 * calling C. Blocks are process-wide: segments have the global scope, any thread may free them, and
 * C code may free them with {@code free}.
 *
 * <p><b>Foreign pointers are not detected.</b> libc cannot tell whether an address came from it:
 * {@link #dealloc}, {@link #free} and {@link #realloc} of an address this allocator did not hand out,
 * of an interior address, or of a block freed already, are undefined behaviour in C and usually
 * abort or crash the JVM. Use {@link Smalloc} (or a checked Smalloc heap) where such mistakes must
 * be caught.
 *
 * <p><b>Costs.</b> One downcall per operation, plus glibc's own work: per-thread caches (tcache) for
 * small blocks, arena locks beyond them, {@code mmap} for blocks above the mmap threshold (128 KiB at
 * first). The downcalls are {@linkplain Linker.Option#critical(boolean) critical}: no thread-state
 * transition, so they cost a call and little more; the price is that a safepoint waits while a thread
 * is inside {@code malloc} (which may block briefly on an arena lock). Pointers cross as
 * {@code long} (the same register on LP64), so the raw layer allocates nothing on the Java heap.
 *
 * <p>{@link #close()} does nothing; every instance shares the one C heap.
 */
public final class SystemAllocator implements NativeAllocator {

    /** The alignment glibc's {@code malloc} gives every block on 64-bit Linux. */
    public static final long MALLOC_ALIGNMENT = 16;

    /**
     * Requests of more than this many bytes (size plus alignment) fail at once: 2^56, the user
     * address space of a Linux process with 5-level paging (47 bits with 4-level). It keeps sizes far
     * from {@code size_t} overflow inside libc ({@code size + alignment}, header rounding).
     */
    public static final long MAX_REQUEST = 1L << 56;

    private static final MethodHandle MALLOC;
    private static final MethodHandle CALLOC;
    private static final MethodHandle REALLOC;
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;
    private static final MethodHandle MALLOC_USABLE_SIZE;

    static {
        // a pointer passed as a long is only right where both are 64-bit values in the same register
        if (ValueLayout.ADDRESS.byteSize() != Long.BYTES) {
            throw new ExceptionInInitializerError("SystemAllocator needs a 64-bit platform, this one has "
                    + ValueLayout.ADDRESS.byteSize() + "-byte pointers");
        }
        Linker linker = Linker.nativeLinker();
        MALLOC = downcall(linker, "malloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        CALLOC = downcall(linker, "calloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        REALLOC = downcall(linker, "realloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        ALIGNED_ALLOC = downcall(linker, "aligned_alloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        FREE = downcall(linker, "free", FunctionDescriptor.ofVoid(JAVA_LONG));
        MALLOC_USABLE_SIZE = downcall(linker, "malloc_usable_size", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
    }

    private static MethodHandle downcall(Linker linker, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = linker.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no symbol " + name));
        // short, never calls back into Java: no thread-state transition needed
        return linker.downcallHandle(symbol, descriptor, Linker.Option.critical(false));
    }

    /** The C library's allocator. Instances are interchangeable: they share the one C heap. */
    public SystemAllocator() {
    }

    // ---------------------------------------------------------------- raw layer

    @Override
    public long alloc(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (unsatisfiable(byteSize, byteAlignment)) {
            return 0;
        }
        return byteAlignment <= MALLOC_ALIGNMENT
                ? cMalloc(nonZero(byteSize))
                : cAlignedAlloc(byteAlignment, nonZero(byteSize));
    }

    @Override
    public long allocZeroed(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (unsatisfiable(byteSize, byteAlignment)) {
            return 0;
        }
        if (byteAlignment <= MALLOC_ALIGNMENT) {
            return cCalloc(nonZero(byteSize));
        }
        long address = cAlignedAlloc(byteAlignment, nonZero(byteSize));
        if (address != 0 && byteSize > 0) {
            MemorySegment.ofAddress(address).reinterpret(byteSize).fill((byte) 0);
        }
        return address;
    }

    /**
     * {@inheritDoc} The address is not checked: see the class comment on foreign pointers.
     */
    @Override
    public void dealloc(long address, long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (address != 0) {
            cFree(address);
        }
    }

    /**
     * {@inheritDoc} Alignments up to 16 use C's {@code realloc}, which may grow or shrink in place;
     * larger ones always move (new block, copy, free). The address is not checked: see the class
     * comment on foreign pointers.
     */
    @Override
    public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        Checks.checkRealloc(oldSize, byteAlignment, newSize);
        if (unsatisfiable(newSize, byteAlignment)) {
            return 0;
        }
        if (byteAlignment <= MALLOC_ALIGNMENT) {
            // never size 0: glibc's realloc(p, 0) frees p and returns NULL
            return cRealloc(address, nonZero(newSize));
        }
        return NativeAllocator.super.realloc(address, oldSize, byteAlignment, newSize); // aligned alloc, copy, free
    }

    /**
     * The bytes usable in a block, from glibc's {@code malloc_usable_size}: at least the size it was
     * allocated with (at least 1 for a zero-size block), often more, because glibc rounds requests up
     * to its chunk sizes. What lies past the size asked for is the allocator's internal waste.
     *
     * @param address a block this allocator handed out and has not freed, or 0 (then 0)
     * @return the usable bytes of the block
     * @implNote The address is not checked: as with {@link #dealloc}, an address libc did not hand
     *           out is undefined behaviour (see the class comment on foreign pointers).
     */
    public long usableSize(long address) {
        if (address == 0) {
            return 0;
        }
        try {
            return (long) MALLOC_USABLE_SIZE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError("malloc_usable_size downcall", t);
        }
    }

    /** {@code "system"}. */
    @Override
    public String name() {
        return "system";
    }

    /** Does nothing: the C heap lives as long as the process. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "SystemAllocator[libc malloc]";
    }

    // ---------------------------------------------------------------- helpers

    /** A legal request no process can hold; also keeps {@code size + alignment} from overflowing. */
    private static boolean unsatisfiable(long byteSize, long byteAlignment) {
        // byteAlignment <= 2^62 (a power of two in a long), so the subtraction cannot overflow
        return byteSize > MAX_REQUEST - byteAlignment;
    }

    /** Size 0 asks for 1 byte: a distinct block everywhere, and 0 back means failure, nothing else. */
    private static long nonZero(long byteSize) {
        return Math.max(byteSize, 1);
    }

    private static long cMalloc(long byteSize) {
        try {
            return (long) MALLOC.invokeExact(byteSize);
        } catch (Throwable t) {
            throw new AssertionError("malloc downcall", t);
        }
    }

    private static long cCalloc(long byteSize) {
        try {
            return (long) CALLOC.invokeExact(1L, byteSize);
        } catch (Throwable t) {
            throw new AssertionError("calloc downcall", t);
        }
    }

    private static long cRealloc(long address, long byteSize) {
        try {
            return (long) REALLOC.invokeExact(address, byteSize);
        } catch (Throwable t) {
            throw new AssertionError("realloc downcall", t);
        }
    }

    /** glibc takes any size here, not only multiples of the alignment (C17 dropped that rule). */
    private static long cAlignedAlloc(long byteAlignment, long byteSize) {
        try {
            return (long) ALIGNED_ALLOC.invokeExact(byteAlignment, byteSize);
        } catch (Throwable t) {
            throw new AssertionError("aligned_alloc downcall", t);
        }
    }

    private static void cFree(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError("free downcall", t);
        }
    }
}
