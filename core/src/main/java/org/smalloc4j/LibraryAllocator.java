package org.smalloc4j;

import java.lang.System.Logger.Level;
import java.util.Optional;

import org.smalloc4j.internal.Checks;
import org.smalloc4j.internal.Jemalloc;
import org.smalloc4j.internal.Mimalloc;
import org.smalloc4j.internal.SharedLibrary;

/**
 * jemalloc or mimalloc, loaded from the shared library the system has installed, behind the
 * allocator contract: {@link #jemalloc()} ({@code libjemalloc.so.2}, Debian's {@code libjemalloc2})
 * and {@link #mimalloc()} ({@code libmimalloc.so.2}, Debian's {@code libmimalloc2.0}).
 *
 * <p><b>Their own entry points.</b> Each library is opened with
 * {@link java.lang.foreign.SymbolLookup#libraryLookup} and only its own symbols are called: jemalloc's
 * {@code mallocx} (with {@code MALLOCX_LG_ALIGN} and {@code MALLOCX_ZERO}), {@code rallocx} and
 * {@code dallocx}; mimalloc's {@code mi_malloc}, {@code mi_zalloc}, {@code mi_realloc}, their
 * {@code _aligned_at} variants, and {@code mi_free}. jemalloc's library also exports plain
 * {@code malloc} and {@code free}, but loading it replaces nothing: the JVM and every other library
 * keep the C library's allocator, and blocks of one allocator must never be freed by another.
 *
 * <p><b>Loading.</b> Each library is loaded once, on the first call of its factory, which then always
 * returns the same instance, or always an empty {@code Optional} when the library is missing or
 * unusable; the reason is logged once (System.Logger {@code org.smalloc4j.LibraryAllocator}: INFO
 * when the library is not installed, WARNING when it is but does not load) and kept by
 * {@link #loadFailure(String)}. jemalloc's library uses static TLS, which glibc gives a library
 * loaded into a running JVM only when the process starts with
 * {@code GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384} in its environment (a variable of the
 * process: setting it from Java is too late); without it jemalloc fails with "cannot allocate memory
 * in static TLS block" and the logged reason says what to set. The {@code smalloc4j} launcher and the
 * project's test configuration set it.
 *
 * <p><b>Guarantees.</b> Blocks are aligned as asked (both libraries give every block 8-byte alignment
 * and are asked for more only when needed), zeroed allocation uses the library's own zeroing (free of
 * cost on fresh pages), and {@link #realloc} uses the library's resize, which stays in place when it
 * can and keeps any alignment. A size of 0 asks the library for 1 byte (jemalloc leaves 0 undefined),
 * so zero-size blocks are distinct and freeable. Requests above {@link SystemAllocator#MAX_REQUEST}
 * (size plus alignment) return 0 without a call. Two bugs of Debian 12's mimalloc 2.0.9 are avoided:
 * misaligned blocks at size 256, 512 and 1024 with alignment 256 or more (mimalloc issue #700), and
 * {@code mi_realloc_aligned} keeping an old block's misalignment. Blocks are process-wide: segments
 * have the global scope and any thread may free them, as with {@code malloc}.
 *
 * <p><b>Foreign pointers are not detected.</b> Neither library can tell an address it did not hand
 * out: {@link #dealloc}, {@link #free} and {@link #realloc} of such an address, of an interior one, or
 * of a block freed already are undefined behaviour (usually an abort or a crash of the JVM), as with
 * {@link SystemAllocator}. Use {@link Smalloc} where such mistakes must be caught.
 *
 * <p><b>Costs.</b> One {@linkplain java.lang.foreign.Linker.Option#critical(boolean) critical} downcall
 * per operation (no thread-state transition; a safepoint waits for a thread inside the library) plus
 * the library's own work, usually a thread-local cache hit. Pointers cross as {@code long}: the raw
 * layer allocates nothing on the Java heap. Deallocation is unsized (jemalloc's {@code dallocx}, not
 * {@code sdallocx}), because a wrong size given to a sized free corrupts jemalloc's heap.
 *
 * <p>{@link #close()} does nothing: the library's heap belongs to the whole process.
 */
public final class LibraryAllocator implements NativeAllocator {

    /** The name of the jemalloc allocator, as {@link #name()} and {@link #loadFailure} know it. */
    public static final String JEMALLOC = "jemalloc";
    /** The name of the mimalloc allocator, as {@link #name()} and {@link #loadFailure} know it. */
    public static final String MIMALLOC = "mimalloc";

    private static final System.Logger LOG = System.getLogger(LibraryAllocator.class.getName());

    /** Loaded on first use, once; the class initialisation is the lock. */
    private static final class JemallocHolder {
        static final Optional<NativeAllocator> ALLOCATOR = load(JEMALLOC, Jemalloc.SONAME, Jemalloc.failure(),
                Jemalloc.notOpened());
    }

    /** Loaded on first use, once; the class initialisation is the lock. */
    private static final class MimallocHolder {
        static final Optional<NativeAllocator> ALLOCATOR = load(MIMALLOC, Mimalloc.SONAME, Mimalloc.failure(),
                Mimalloc.notOpened());
    }

    private final String name;
    private final String soname;
    private final boolean jemalloc; // else mimalloc: two libraries, one contract

    private LibraryAllocator(String name, String soname) {
        this.name = name;
        this.soname = soname;
        this.jemalloc = JEMALLOC.equals(name);
    }

    private static Optional<NativeAllocator> load(String name, String soname, Optional<String> failure,
            boolean notOpened) {
        if (failure.isPresent()) {
            boolean notInstalled = notOpened && failure.get().contains("is not installed");
            LOG.log(notInstalled ? Level.INFO : Level.WARNING,
                    "{0} is not available: {1}", name, failure.get());
            return Optional.empty();
        }
        return Optional.of(new LibraryAllocator(name, soname));
    }

    /**
     * jemalloc from {@code libjemalloc.so.2}, loaded on the first call; the same instance every time.
     *
     * @return the allocator, or empty when the library is missing or cannot be loaded (the reason is
     *         logged once and kept by {@link #loadFailure(String) loadFailure("jemalloc")}); without
     *         {@code GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384} in the environment of the
     *         process it cannot be loaded
     */
    public static Optional<NativeAllocator> jemalloc() {
        return JemallocHolder.ALLOCATOR;
    }

    /**
     * mimalloc from {@code libmimalloc.so.2}, loaded on the first call; the same instance every time.
     *
     * @return the allocator, or empty when the library is missing or cannot be loaded (the reason is
     *         logged once and kept by {@link #loadFailure(String) loadFailure("mimalloc")})
     */
    public static Optional<NativeAllocator> mimalloc() {
        return MimallocHolder.ALLOCATOR;
    }

    /**
     * Why {@code jemalloc()} or {@code mimalloc()} is empty, in words a user can act on: loads the
     * library if it was not tried yet.
     *
     * @param name {@code "jemalloc"} or {@code "mimalloc"}
     * @return the reason, or empty when the library is loaded
     * @throws IllegalArgumentException for any other name
     */
    public static Optional<String> loadFailure(String name) {
        return switch (name) {
            case JEMALLOC -> jemalloc().isPresent() ? Optional.empty() : Jemalloc.failure();
            case MIMALLOC -> mimalloc().isPresent() ? Optional.empty() : Mimalloc.failure();
            default -> throw new IllegalArgumentException("no library allocator '" + name + "': the known ones are '"
                    + JEMALLOC + "' and '" + MIMALLOC + "'");
        };
    }

    /** The environment setting jemalloc needs, to be set before the JVM starts. */
    public static String jemallocEnvironment() {
        return "GLIBC_TUNABLES=" + SharedLibrary.STATIC_TLS_TUNABLE;
    }

    // ---------------------------------------------------------------- raw layer

    @Override
    public long alloc(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (unsatisfiable(byteSize, byteAlignment)) {
            return 0;
        }
        long size = nonZero(byteSize);
        return jemalloc ? Jemalloc.mallocx(size, byteAlignment) : Mimalloc.malloc(size, byteAlignment);
    }

    @Override
    public long allocZeroed(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (unsatisfiable(byteSize, byteAlignment)) {
            return 0;
        }
        long size = nonZero(byteSize);
        return jemalloc ? Jemalloc.mallocxZeroed(size, byteAlignment) : Mimalloc.zalloc(size, byteAlignment);
    }

    /** {@inheritDoc} The address is not checked: see the class comment on foreign pointers. */
    @Override
    public void dealloc(long address, long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (address == 0) {
            return;
        }
        if (jemalloc) {
            Jemalloc.dallocx(address);
        } else {
            Mimalloc.free(address);
        }
    }

    /**
     * {@inheritDoc} The library's own resize: in place when the block has room (and is aligned as
     * asked), else a new block, a copy and a free, all inside the library. The address is not
     * checked: see the class comment on foreign pointers.
     */
    @Override
    public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        Checks.checkRealloc(oldSize, byteAlignment, newSize);
        if (unsatisfiable(newSize, byteAlignment)) {
            return 0;
        }
        if (address == 0) {
            return alloc(newSize, byteAlignment);
        }
        long size = nonZero(newSize);
        return jemalloc ? Jemalloc.rallocx(address, size, byteAlignment) : Mimalloc.realloc(address, size, byteAlignment);
    }

    /**
     * The bytes usable in a block, as the library tells them (jemalloc's {@code sallocx}, mimalloc's
     * {@code mi_usable_size}): at least the size it was allocated with (at least 1 for a zero-size
     * block), usually the library's size class for it. What lies past the size asked for is the
     * allocator's internal waste.
     *
     * @param address a block this allocator handed out and has not freed, or 0 (then 0)
     * @return the usable bytes of the block
     * @implNote The address is not checked: an address the library did not hand out is undefined
     *           behaviour (see the class comment on foreign pointers).
     */
    public long usableSize(long address) {
        if (address == 0) {
            return 0;
        }
        return jemalloc ? Jemalloc.sallocx(address) : Mimalloc.usableSize(address);
    }

    /** {@code "jemalloc"} or {@code "mimalloc"}. */
    @Override
    public String name() {
        return name;
    }

    /** Does nothing: the library's heap lives as long as the process. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "LibraryAllocator[" + name + ", " + soname + "]";
    }

    // ---------------------------------------------------------------- helpers

    /** A legal request no process can hold; also keeps {@code size + alignment} from overflowing. */
    private static boolean unsatisfiable(long byteSize, long byteAlignment) {
        // byteAlignment <= 2^62 (a power of two in a long), so the subtraction cannot overflow
        return byteSize > SystemAllocator.MAX_REQUEST - byteAlignment;
    }

    /** Size 0 asks for 1 byte: jemalloc leaves 0 undefined, and a distinct block is the contract. */
    private static long nonZero(long byteSize) {
        return Math.max(byteSize, 1);
    }
}
