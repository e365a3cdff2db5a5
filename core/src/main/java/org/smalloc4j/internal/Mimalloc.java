package org.smalloc4j.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * mimalloc's own API from {@code libmimalloc.so.2} (Debian's {@code libmimalloc2.0}), loaded when
 * this class initialises. Callers check {@link #failure()} before the first call and pass sizes of at
 * least 1 and alignments that are powers of two.
 *
 * <p><b>Two traps of mimalloc 2.0.9 (Debian 12), avoided here.</b>
 * <ul>
 * <li>{@code mi_malloc_aligned(size, alignment)} takes a shortcut for a power-of-two size of at least
 * the alignment and at most 1 KiB: it serves a plain small block, assuming those are aligned to their
 * size. They are not: at size 256, 512 and 1024 with alignment 256 or more every block comes back
 * misaligned (mimalloc issue #700; measured here for every multiple of every alignment from 16 to
 * 4 MiB: exactly size 256 at alignment 256, 512 at 256 and 512, 1024 at 256, 512 and 1024). The
 * {@code _at} variant with offset 0 means the same request and has no such shortcut: it checks the
 * alignment of the block it takes. Every aligned request goes through it.</li>
 * <li>{@code mi_realloc_aligned(p, size, alignment)} keeps the offset {@code p % alignment} of the old
 * block rather than aligning the new one, so a block allocated with a smaller alignment stays
 * misaligned; {@code mi_realloc_aligned_at(p, size, alignment, 0)} aligns the result.</li>
 * </ul>
 */
public final class Mimalloc {

    /** The library's soname. */
    public static final String SONAME = "libmimalloc.so.2";
    /** Every mimalloc block is aligned to 8 (its smallest block is a pointer). */
    private static final long NATURAL_ALIGNMENT = 8;

    private static final SharedLibrary LIBRARY = SharedLibrary.open(SONAME, "libmimalloc2.0");
    private static final MethodHandle MALLOC = LIBRARY.criticalDowncall("mi_malloc",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
    private static final MethodHandle ZALLOC = LIBRARY.criticalDowncall("mi_zalloc",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MALLOC_ALIGNED_AT = LIBRARY.criticalDowncall("mi_malloc_aligned_at",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle ZALLOC_ALIGNED_AT = LIBRARY.criticalDowncall("mi_zalloc_aligned_at",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle REALLOC = LIBRARY.criticalDowncall("mi_realloc",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle REALLOC_ALIGNED_AT = LIBRARY.criticalDowncall("mi_realloc_aligned_at",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FREE = LIBRARY.criticalDowncall("mi_free",
            FunctionDescriptor.ofVoid(JAVA_LONG));
    private static final MethodHandle USABLE_SIZE = LIBRARY.criticalDowncall("mi_usable_size",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));

    private Mimalloc() {
    }

    /** Why mimalloc cannot be used here, or empty when it is loaded. */
    public static Optional<String> failure() {
        return LIBRARY.failure();
    }

    /** Did the library fail to open (rather than lack a symbol)? */
    public static boolean notOpened() {
        return LIBRARY.notOpened();
    }

    /** {@code mi_malloc}, or {@code mi_malloc_aligned_at(…, 0)} above the natural alignment. */
    public static long malloc(long byteSize, long byteAlignment) {
        assert byteSize > 0;
        try {
            return byteAlignment <= NATURAL_ALIGNMENT
                    ? (long) MALLOC.invokeExact(byteSize)
                    : (long) MALLOC_ALIGNED_AT.invokeExact(byteSize, byteAlignment, 0L);
        } catch (Throwable t) {
            throw new AssertionError("mi_malloc downcall", t);
        }
    }

    /** {@code mi_zalloc}, or {@code mi_zalloc_aligned_at(…, 0)} above the natural alignment. */
    public static long zalloc(long byteSize, long byteAlignment) {
        assert byteSize > 0;
        try {
            return byteAlignment <= NATURAL_ALIGNMENT
                    ? (long) ZALLOC.invokeExact(byteSize)
                    : (long) ZALLOC_ALIGNED_AT.invokeExact(byteSize, byteAlignment, 0L);
        } catch (Throwable t) {
            throw new AssertionError("mi_zalloc downcall", t);
        }
    }

    /**
     * {@code mi_realloc}, or {@code mi_realloc_aligned_at(…, 0)} above the natural alignment: in place
     * when the block has room and is aligned, else moved; 0 when it cannot, the block then untouched.
     */
    public static long realloc(long address, long byteSize, long byteAlignment) {
        assert address != 0 && byteSize > 0;
        try {
            return byteAlignment <= NATURAL_ALIGNMENT
                    ? (long) REALLOC.invokeExact(address, byteSize)
                    : (long) REALLOC_ALIGNED_AT.invokeExact(address, byteSize, byteAlignment, 0L);
        } catch (Throwable t) {
            throw new AssertionError("mi_realloc downcall", t);
        }
    }

    /** {@code mi_free}. */
    public static void free(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError("mi_free downcall", t);
        }
    }

    /** {@code mi_usable_size}: the bytes available in the block. */
    public static long usableSize(long address) {
        try {
            return (long) USABLE_SIZE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError("mi_usable_size downcall", t);
        }
    }
}
