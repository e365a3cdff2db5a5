package org.smalloc4j.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A shared library opened by its soname, with downcalls to its own symbols, or the reasons it cannot
 * be used. Symbols are looked up in this library alone ({@link SymbolLookup#libraryLookup}): a library
 * that also exports {@code malloc} and {@code free} (jemalloc does) replaces nothing in the process.
 * Opened once per instance and never closed (global arena): allocators live as long as the process.
 */
public final class SharedLibrary {

    /** The glibc tunable that reserves static TLS for libraries loaded after start-up. */
    public static final String STATIC_TLS_TUNABLE = "glibc.rtld.optional_static_tls=16384";

    private static final int RTLD_LAZY = 0x1; // RTLD_LOCAL is 0

    private final String soname;
    private final String debianPackage;
    private final SymbolLookup lookup; // null when the library did not open
    private final List<String> problems = new ArrayList<>();

    private SharedLibrary(String soname, String debianPackage) {
        this.soname = soname;
        this.debianPackage = debianPackage;
        SymbolLookup opened = null;
        try {
            opened = SymbolLookup.libraryLookup(soname, Arena.global());
        } catch (IllegalArgumentException e) {
            problems.add(explain(soname, debianPackage, dlopenError(soname)));
        }
        this.lookup = opened;
    }

    /**
     * Opens {@code soname} (found the way {@code dlopen} finds it: the loader cache, LD_LIBRARY_PATH).
     * Never throws: a library that does not open has a {@link #failure()}.
     *
     * @param debianPackage the Debian package that ships it, named in the failure
     */
    public static SharedLibrary open(String soname, String debianPackage) {
        return new SharedLibrary(soname, debianPackage);
    }

    /**
     * A {@linkplain Linker.Option#critical critical} downcall to {@code symbol} of this library, for
     * short functions that never call back into Java; {@code null}, with the problem recorded in
     * {@link #failure()}, when the library did not open or lacks the symbol.
     */
    public MethodHandle criticalDowncall(String symbol, FunctionDescriptor descriptor) {
        if (lookup == null) {
            return null;
        }
        Optional<MemorySegment> address = lookup.find(symbol);
        if (address.isEmpty()) {
            problems.add(soname + " has no symbol " + symbol + " (an older version than expected? Debian's "
                    + debianPackage + " has it)");
            return null;
        }
        return Linker.nativeLinker().downcallHandle(address.get(), descriptor, Linker.Option.critical(false));
    }

    /** Why this library cannot be used (every problem met so far), or empty when it can. */
    public Optional<String> failure() {
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    /** Did the library itself fail to open (as opposed to lacking a symbol)? */
    public boolean notOpened() {
        return lookup == null;
    }

    /** The soname this library was opened by. */
    public String soname() {
        return soname;
    }

    @Override
    public String toString() {
        return soname + (lookup == null ? " (not loaded)" : "") + " from " + debianPackage;
    }

    /** The reason in words a user can act on, from the loader's own message. */
    static String explain(String soname, String debianPackage, String dlerror) {
        String detail = dlerror == null ? "the dynamic loader gave no reason" : dlerror;
        if (detail.contains("static TLS")) {
            String tunables = System.getenv("GLIBC_TUNABLES");
            return soname + " could not be loaded into this JVM: " + detail + ". The library uses static TLS,"
                    + " which glibc reserves for libraries loaded after start-up only when the process starts with"
                    + " GLIBC_TUNABLES=" + STATIC_TLS_TUNABLE + " in its environment (GLIBC_TUNABLES is "
                    + (tunables == null ? "not set" : "'" + tunables + "'")
                    + " here); the smalloc4j launcher and the project's test configuration set it";
        }
        if (detail.contains("No such file") || detail.contains("cannot open shared object file")) {
            return soname + " is not installed: " + detail + ". On Debian or Ubuntu: apt-get install "
                    + debianPackage + " (the smalloc4j sources have .ci/install-libs for that)";
        }
        return soname + " could not be loaded: " + detail;
    }

    /** The loader's message for {@code soname}, from our own {@code dlopen}: the JDK's exception drops it. */
    private static String dlopenError(String soname) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Optional<MemorySegment> dlopen = libc.find("dlopen");
        Optional<MemorySegment> dlerror = libc.find("dlerror");
        Optional<MemorySegment> dlclose = libc.find("dlclose");
        if (dlopen.isEmpty() || dlerror.isEmpty() || dlclose.isEmpty()) {
            return null;
        }
        MethodHandle open = linker.downcallHandle(dlopen.get(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        MethodHandle error = linker.downcallHandle(dlerror.get(), FunctionDescriptor.of(ADDRESS));
        MethodHandle close = linker.downcallHandle(dlclose.get(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) open.invokeExact(arena.allocateFrom(soname), RTLD_LAZY);
            if (!handle.equals(MemorySegment.NULL)) {
                int ignored = (int) close.invokeExact(handle);
                return "dlopen succeeds, yet the JDK's library lookup failed";
            }
            MemorySegment message = (MemorySegment) error.invokeExact(); // thread-local: ours
            return message.equals(MemorySegment.NULL) ? null : message.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return "dlopen probe failed: " + t;
        }
    }
}
