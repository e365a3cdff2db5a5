package org.smalloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

import org.smalloc4j.Allocators;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.TrackingAllocator;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The allocators the benchmarks know, by the name a {@code -p allocator=…} gives, made and checked
 * the same way by every benchmark. Names that {@link Allocators#named} knows mean what it says; a
 * library that cannot be loaded (jemalloc without its {@code GLIBC_TUNABLES}, mimalloc not installed)
 * fails the benchmark with the reason, never skips it.
 */
final class BenchAllocators {

    /** The global heap. */
    static final String SMALLOC = "smalloc";
    /** A {@code BumpArena} per benchmark thread over the global heap, reset every few blocks. */
    static final String BUMP = "bump:smalloc";
    /** {@code TrackingAllocator.of(Smalloc.global())}: counters only. */
    static final String TRACKING = "tracking:smalloc";
    /**
     * A tracker over the global heap with {@code exactPeak(true)} (what a byte limit costs too): live and
     * peak bytes exact in one shared word, against the per-thread cells of {@value #TRACKING}.
     */
    static final String TRACKING_EXACT = "tracking-exact:smalloc";
    /** A tracker over the global heap that records a trace to {@code /dev/null} (encoding, lock, writes). */
    static final String TRACKING_TRACE = "tracking-trace:smalloc";
    /** A default builder heap, reached through its shared arena's segments. */
    static final String SMALLOC_HEAP = "smalloc-heap";
    /** A builder heap in checked mode. */
    static final String SMALLOC_CHECKED = "smalloc-checked";
    /** A builder heap that never gives pages back: against {@value #SMALLOC_HEAP}, the cost of releasing (1 MiB). */
    static final String SMALLOC_KEEP_PAGES = "smalloc-heap-keep-pages";
    /** A builder heap without thread caches: against {@value #SMALLOC_HEAP}, what the caches save. */
    static final String SMALLOC_NO_CACHE = "smalloc-heap-no-cache";

    /** Every name {@link #open} takes. */
    static final List<String> NAMES = List.of(SMALLOC, "system", "jemalloc", "mimalloc", BUMP, TRACKING,
            TRACKING_EXACT, TRACKING_TRACE, SMALLOC_HEAP, SMALLOC_CHECKED, SMALLOC_KEEP_PAGES, SMALLOC_NO_CACHE);

    /** Writes at raw addresses without a segment per block (no Java-heap allocation). */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private BenchAllocators() {
    }

    /**
     * The allocator called {@code name}, shared by the benchmark's threads; for {@value #BUMP}, the
     * global heap that each thread's arena takes its chunks from.
     *
     * @throws IllegalArgumentException if the name is none of {@link #NAMES}
     * @throws IllegalStateException if it names a library that cannot be loaded here (saying why)
     */
    static NativeAllocator open(String name) {
        return switch (name) {
            case SMALLOC, BUMP -> Smalloc.global();
            case "system", "jemalloc", "mimalloc" -> Allocators.named(name);
            case TRACKING -> TrackingAllocator.of(Smalloc.global());
            case TRACKING_EXACT -> TrackingAllocator.builder(Smalloc.global()).exactPeak(true).build();
            case TRACKING_TRACE -> TrackingAllocator.builder(Smalloc.global()).traceTo(Path.of("/dev/null")).build();
            case SMALLOC_HEAP -> Smalloc.builder().name(SMALLOC_HEAP).build();
            case SMALLOC_CHECKED -> Smalloc.builder().name(SMALLOC_CHECKED).checked(true).build();
            case SMALLOC_KEEP_PAGES -> Smalloc.builder().name(SMALLOC_KEEP_PAGES).releaseThreshold(Long.MAX_VALUE).build();
            case SMALLOC_NO_CACHE -> Smalloc.builder().name(SMALLOC_NO_CACHE).threadCaches(false).build();
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "': the known ones are " + NAMES);
        };
    }

    /** Does {@code name}'s memory come from {@link Smalloc#global()}, so that its slots in use tell leaks? */
    static boolean onGlobalHeap(String name) {
        return name.equals(SMALLOC) || name.equals(BUMP) || name.equals(TRACKING) || name.equals(TRACKING_EXACT)
                || name.equals(TRACKING_TRACE);
    }

    /**
     * Slots of the global heap handed out and not freed: equal before and after a trial when the
     * benchmark gave back everything it took.
     */
    static long globalSlotsInUse() {
        return Smalloc.global().stats().slotsInUse();
    }

    /**
     * Fails unless {@code heap} has nothing live that the benchmark left: its trackers count no live
     * bytes, its builder heaps no slot in use, the global heap as many slots as before the trial.
     *
     * @throws IllegalStateException naming the allocator and what was left
     */
    static void checkAllFreed(String name, NativeAllocator heap, long globalSlotsBefore) {
        if (heap instanceof TrackingAllocator tracking && tracking.liveBytes() != 0) {
            throw new IllegalStateException(name + ": " + tracking.liveBytes() + " bytes still live after the trial");
        }
        if (heap instanceof Smalloc smalloc && heap != Smalloc.global() && smalloc.stats().slotsInUse() != 0) {
            throw new IllegalStateException(name + ": " + smalloc.stats().slotsInUse() + " slots still in use after the trial");
        }
        if (onGlobalHeap(name)) {
            long after = globalSlotsInUse();
            if (after != globalSlotsBefore) {
                throw new IllegalStateException(name + ": the global heap has " + after + " slots in use after the trial, "
                        + globalSlotsBefore + " before it");
            }
        }
    }

    /**
     * Checks, before a trial, that {@code heap} really allocates {@code byteSize} bytes through both
     * layers: a non-zero, aligned address whose first and last bytes keep what is written, and a
     * segment of exactly that size; both are given back.
     *
     * @throws IllegalStateException naming the allocator and what is wrong
     */
    static void checkAllocates(NativeAllocator heap, long byteSize, long byteAlignment) {
        long address = heap.alloc(byteSize, byteAlignment);
        if (address == 0 || address % byteAlignment != 0) {
            throw new IllegalStateException(heap.name() + ".alloc(" + byteSize + ", " + byteAlignment + ") returned 0x"
                    + Long.toHexString(address));
        }
        touch(address, byteSize);
        heap.dealloc(address, byteSize, byteAlignment);
        MemorySegment segment = heap.allocate(byteSize, byteAlignment);
        if (segment.byteSize() != byteSize || segment.address() == 0) {
            throw new IllegalStateException(heap.name() + ".allocate(" + byteSize + ", " + byteAlignment + ") returned "
                    + segment);
        }
        touch(segment.address(), byteSize);
        heap.free(segment);
    }

    /** Writes the first and last byte of a block and reads them back. */
    private static void touch(long address, long byteSize) {
        if (byteSize == 0) {
            return;
        }
        long last = address + byteSize - 1;
        EVERYTHING.set(JAVA_BYTE, address, (byte) 0x5a);
        EVERYTHING.set(JAVA_BYTE, last, (byte) 0xa5);
        if (EVERYTHING.get(JAVA_BYTE, address) != (byte) 0x5a || EVERYTHING.get(JAVA_BYTE, last) != (byte) 0xa5) {
            throw new IllegalStateException("block at 0x" + Long.toHexString(address) + " does not keep what is written");
        }
    }

    /** Writes one byte at a raw address: what each measured block gets. */
    static void writeByte(long address) {
        EVERYTHING.set(JAVA_BYTE, address, (byte) 1);
    }
}
