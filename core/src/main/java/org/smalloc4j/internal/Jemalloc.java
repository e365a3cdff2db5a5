package org.smalloc4j.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * jemalloc's own non-standard API ({@code mallocx}, {@code rallocx}, {@code dallocx}) from
 * {@code libjemalloc.so.2} (Debian's {@code libjemalloc2}, jemalloc 5), loaded when this class
 * initialises. Callers check {@link #failure()} before the first call and pass sizes of at least 1
 * (jemalloc leaves size 0 undefined) and alignments that are powers of two.
 *
 * <p>Deallocation is unsized ({@code dallocx}, not {@code sdallocx}): jemalloc's sized free trusts
 * the size and alignment to pick the size class, and the FFM layer's {@code free(segment)} knows
 * neither the alignment nor, after a caller's mistake, the right size; a wrong guess there corrupts
 * the heap, while {@code dallocx} costs one radix-tree lookup.
 */
public final class Jemalloc {

    /** The library's soname. */
    public static final String SONAME = "libjemalloc.so.2";
    /** {@code MALLOCX_ZERO}: the block comes zero-filled (free of cost on fresh pages). */
    private static final int MALLOCX_ZERO = 0x40;
    /** jemalloc's smallest size class is 8 bytes, 8-aligned: every block is aligned to 8. */
    private static final long NATURAL_ALIGNMENT = 8;

    private static final SharedLibrary LIBRARY = SharedLibrary.open(SONAME, "libjemalloc2");
    private static final MethodHandle MALLOCX = LIBRARY.criticalDowncall("mallocx",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RALLOCX = LIBRARY.criticalDowncall("rallocx",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle DALLOCX = LIBRARY.criticalDowncall("dallocx",
            FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT));
    private static final MethodHandle SALLOCX = LIBRARY.criticalDowncall("sallocx",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT));

    private Jemalloc() {
    }

    /** Why jemalloc cannot be used here, or empty when it is loaded. */
    public static Optional<String> failure() {
        return LIBRARY.failure();
    }

    /** Did the library fail to open (rather than lack a symbol)? */
    public static boolean notOpened() {
        return LIBRARY.notOpened();
    }

    /** {@code MALLOCX_LG_ALIGN(log2(alignment))}, or no flag where every block is aligned anyway. */
    private static int alignFlag(long byteAlignment) {
        return byteAlignment <= NATURAL_ALIGNMENT ? 0 : Long.numberOfTrailingZeros(byteAlignment);
    }

    /** {@code mallocx(byteSize, MALLOCX_LG_ALIGN(…))}: 0 when it cannot allocate. */
    public static long mallocx(long byteSize, long byteAlignment) {
        assert byteSize > 0 : "mallocx(0) is undefined";
        try {
            return (long) MALLOCX.invokeExact(byteSize, alignFlag(byteAlignment));
        } catch (Throwable t) {
            throw new AssertionError("mallocx downcall", t);
        }
    }

    /** {@code mallocx(byteSize, MALLOCX_ZERO | MALLOCX_LG_ALIGN(…))}: 0 when it cannot allocate. */
    public static long mallocxZeroed(long byteSize, long byteAlignment) {
        assert byteSize > 0 : "mallocx(0) is undefined";
        try {
            return (long) MALLOCX.invokeExact(byteSize, MALLOCX_ZERO | alignFlag(byteAlignment));
        } catch (Throwable t) {
            throw new AssertionError("mallocx downcall", t);
        }
    }

    /**
     * {@code rallocx}: resizes in place or moves, keeping the alignment; 0 when it cannot, and then the
     * block is untouched.
     */
    public static long rallocx(long address, long byteSize, long byteAlignment) {
        assert address != 0 && byteSize > 0 : "rallocx of NULL or to size 0 is undefined";
        try {
            return (long) RALLOCX.invokeExact(address, byteSize, alignFlag(byteAlignment));
        } catch (Throwable t) {
            throw new AssertionError("rallocx downcall", t);
        }
    }

    /** {@code dallocx(address, 0)}: jemalloc finds the block's size class itself. */
    public static void dallocx(long address) {
        assert address != 0 : "dallocx(NULL) is undefined";
        try {
            DALLOCX.invokeExact(address, 0);
        } catch (Throwable t) {
            throw new AssertionError("dallocx downcall", t);
        }
    }

    /** {@code sallocx(address, 0)}: the real size of the block, its size class. */
    public static long sallocx(long address) {
        assert address != 0 : "sallocx(NULL) is undefined";
        try {
            return (long) SALLOCX.invokeExact(address, 0);
        } catch (Throwable t) {
            throw new AssertionError("sallocx downcall", t);
        }
    }
}
