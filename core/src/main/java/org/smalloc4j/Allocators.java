package org.smalloc4j;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The process-wide allocators by name, and the one the program chose: {@link #global()} is the
 * allocator named by the system property {@value #ALLOCATOR_PROPERTY}, so one flag swaps the
 * allocator of all code that asks for it, as {@code #[global_allocator]} does in Rust.
 *
 * <pre>{@code
 * NativeAllocator heap = Allocators.global();     // Smalloc.global() unless the command line says otherwise
 *
 * java -Dsmalloc4j.allocator=system ...                          // libc malloc
 * java -Dsmalloc4j.allocator=tracking:smalloc ...                // Smalloc, counted
 * java -Dsmalloc4j.allocator=tracking:jemalloc -Dsmalloc4j.trace=app-%p.trace ...   // counted and traced
 * }</pre>
 *
 * <h2>Names</h2>
 * Case-sensitive:
 * <ul>
 * <li>{@code smalloc}: {@link Smalloc#global()};</li>
 * <li>{@code system}: the C library's {@code malloc} ({@link SystemAllocator});</li>
 * <li>{@code jemalloc}, {@code mimalloc}: those libraries, where they can be loaded;</li>
 * <li>{@code tracking:<name>}: a {@link TrackingAllocator} over the allocator {@code <name>}
 * (itself possibly {@code tracking:…}).</li>
 * </ul>
 * A name stands for one process-wide instance: {@link #named} returns the same allocator for the
 * same name on every call, and {@code global()} is {@code named} of the property's value. Their
 * {@code close()} does nothing. For a tracker of your own (fresh counters, a limit, stacks), use
 * {@code TrackingAllocator.of(Allocators.named("smalloc"))}.
 *
 * <h2>Tracing a whole program</h2>
 * When {@value #TRACE_PROPERTY} names a file and {@value #ALLOCATOR_PROPERTY} is a
 * {@code tracking:} name, that tracker (the outermost one) records its trace to the file, which is
 * created or truncated on first use and completed when the JVM exits (allocations during JVM
 * shutdown, after that, are counted but not recorded). {@code %p} in the file name stands for the
 * process id, so that several JVMs (say forked test runners) write separate files. Read it with
 * {@link TraceReader}.
 *
 * <p>Both properties are read once, on the first call of either method.
 */
public final class Allocators {

    /** The system property that names the allocator {@link #global()} returns. */
    public static final String ALLOCATOR_PROPERTY = "smalloc4j.allocator";
    /** The system property that names the trace file of a global {@code tracking:} allocator. */
    public static final String TRACE_PROPERTY = "smalloc4j.trace";
    /** The allocator {@link #global()} returns when {@value #ALLOCATOR_PROPERTY} is not set. */
    public static final String DEFAULT_ALLOCATOR = "smalloc";
    /** The prefix of a name that wraps another allocator in a {@link TrackingAllocator}. */
    public static final String TRACKING_PREFIX = "tracking:";

    /** How a base name is loaded; throws {@link IllegalStateException} saying why it cannot be. */
    private static final Map<String, Supplier<NativeAllocator>> BASE = new LinkedHashMap<>();

    static {
        BASE.put("smalloc", Smalloc::global);
        BASE.put("system", SystemAllocator::new); // instances share the one C heap; named() keeps the first
        BASE.put("jemalloc", () -> library("jemalloc"));
        BASE.put("mimalloc", () -> library("mimalloc"));
    }

    /** Allocators already made, by full name. */
    private static final Map<String, NativeAllocator> MADE = new ConcurrentHashMap<>();

    /** The properties, read once; guarded by the class. */
    private static Settings settings;
    private static volatile NativeAllocator global;

    private record Settings(String allocatorName, String traceFile) {
    }

    private Allocators() {
    }

    /**
     * The allocator named by {@value #ALLOCATOR_PROPERTY} ({@value #DEFAULT_ALLOCATOR} if unset): the
     * same instance on every call. There is no fallback: a bad name fails every call.
     *
     * @throws IllegalArgumentException if the property holds an unknown name (listing the known ones)
     * @throws IllegalStateException if it names an allocator that cannot be loaded here (saying why), or
     *         if {@value #TRACE_PROPERTY} is set while the allocator is not a {@code tracking:} one
     */
    public static NativeAllocator global() {
        NativeAllocator allocator = global;
        return allocator != null ? allocator : resolveGlobal();
    }

    private static synchronized NativeAllocator resolveGlobal() {
        if (global == null) {
            Settings settings = settings();
            if (settings.traceFile() != null && !settings.allocatorName().startsWith(TRACKING_PREFIX)) {
                throw new IllegalStateException(TRACE_PROPERTY + " is set, but " + ALLOCATOR_PROPERTY + " '"
                        + settings.allocatorName() + "' does not track: use -D" + ALLOCATOR_PROPERTY + "="
                        + TRACKING_PREFIX + settings.allocatorName() + " to record a trace");
            }
            global = named(settings.allocatorName());
        }
        return global;
    }

    /**
     * The process-wide allocator called {@code name}; the same instance for the same name on every
     * call.
     *
     * @throws IllegalArgumentException if the name is unknown (the message lists the known ones)
     * @throws IllegalStateException if the allocator is known but cannot be loaded in this process
     *         (the message says why)
     */
    public static NativeAllocator named(String name) {
        Objects.requireNonNull(name, "name");
        NativeAllocator made = MADE.get(name);
        return made != null ? made : make(name);
    }

    /** The names {@link #named} knows, {@code tracking:<name>} standing for every tracking name. */
    public static List<String> knownNames() {
        List<String> names = new ArrayList<>(BASE.keySet());
        names.add(TRACKING_PREFIX + "<name>");
        return List.copyOf(names);
    }

    /** Makes the allocator once; a lock, not computeIfAbsent, because tracking names recurse. */
    private static synchronized NativeAllocator make(String name) {
        NativeAllocator made = MADE.get(name);
        if (made != null) {
            return made;
        }
        if (name.startsWith(TRACKING_PREFIX)) {
            NativeAllocator inner = named(name.substring(TRACKING_PREFIX.length()));
            made = tracker(name, inner);
        } else {
            Supplier<NativeAllocator> loader = BASE.get(name);
            if (loader == null) {
                throw new IllegalArgumentException("unknown allocator '" + name + "'; known: "
                        + String.join(", ", knownNames()) + " (names are case-sensitive)");
            }
            made = loader.get(); // IllegalStateException if it cannot be loaded: not remembered, so a later call retries
        }
        MADE.put(name, made);
        return made;
    }

    private static TrackingAllocator tracker(String name, NativeAllocator inner) {
        TrackingAllocator.Builder builder = TrackingAllocator.builder(inner).processWide();
        Settings settings = settings();
        boolean traced = settings.traceFile() != null && name.equals(settings.allocatorName());
        if (traced) {
            Path file = Path.of(settings.traceFile().replace("%p", Long.toString(ProcessHandle.current().pid())));
            builder.traceTo(file);
        }
        TrackingAllocator tracker;
        try {
            tracker = builder.build();
        } catch (UncheckedIOException e) {
            throw new IllegalStateException("allocator '" + name + "' cannot be loaded: " + e.getMessage(), e);
        }
        if (traced) {
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("smalloc4j trace " + name)
                    .unstarted(tracker::closeTrace));
        }
        return tracker;
    }

    private static synchronized Settings settings() {
        if (settings == null) {
            settings = new Settings(System.getProperty(ALLOCATOR_PROPERTY, DEFAULT_ALLOCATOR),
                    System.getProperty(TRACE_PROPERTY));
        }
        return settings;
    }

    /** jemalloc or mimalloc from its shared library, or why it cannot be loaded. */
    private static NativeAllocator library(String name) {
        Optional<NativeAllocator> loaded = name.equals(LibraryAllocator.JEMALLOC)
                ? LibraryAllocator.jemalloc() : LibraryAllocator.mimalloc();
        return loaded.orElseThrow(() -> new IllegalStateException("allocator '" + name + "' cannot be loaded: "
                + LibraryAllocator.loadFailure(name).orElse("unknown reason")));
    }

    /**
     * Forgets the properties, {@link #global()} and every allocator made, so that a test can set the
     * properties again. Trackers made before keep their traces open: end them with their
     * {@code closeTrace()}.
     */
    static synchronized void resetForTests() {
        settings = null;
        global = null;
        MADE.clear();
    }
}
