package org.smalloc4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Resident memory before, at peak and after freeing {@value #TOTAL_BYTES} bytes in blocks of
 * {@value #BLOCK_BYTES} bytes, every page touched (issue 6, part 5). Reads the process's RSS from
 * {@code /proc/self/statm} and, for a Smalloc heap, the resident bytes of its own mapping from
 * {@code /proc/self/smaps}, which no other memory of the JVM disturbs.
 *
 * <p>Run as a program it prints a table for Smalloc, libc, jemalloc and mimalloc (or the allocators
 * named as arguments), each in a JVM of its own after {@code ./mvnw -q -pl core test-compile}:
 * <pre>
 * for a in smalloc system jemalloc mimalloc; do
 *   GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 /usr/lib/jvm/temurin-25-jdk-amd64/bin/java \
 *     --enable-native-access=ALL-UNNAMED -cp core/target/classes:core/target/test-classes \
 *     org.smalloc4j.ResidentMemory $a
 * done
 * </pre>
 * The test tagged {@code slow} in {@link ResidentMemoryTest} measures all in one JVM through Maven:
 * {@code ./mvnw -q -pl core test -Dexcluded.groups= -Dgroups=slow -Dtest=ResidentMemoryTest}.
 */
final class ResidentMemory {

    static final long BLOCK_BYTES = 1L << 20;
    static final long TOTAL_BYTES = 1L << 30;
    static final int BLOCKS = (int) (TOTAL_BYTES / BLOCK_BYTES);
    static final long PAGE = 4096;

    private ResidentMemory() {
    }

    /** Resident bytes at each step; {@code heapMapping*} are -1 when the allocator has no single mapping. */
    record Measurement(String allocator, long baseline, long peak, long half, long after,
                       long heapMappingBaseline, long heapMappingPeak, long heapMappingHalf, long heapMappingAfter) {
    }

    /**
     * Allocates {@value #BLOCKS} blocks, writes a stamp in every page, frees every other block (the
     * "half" point: 512 MiB live), checks the stamps of the rest and frees them too.
     */
    static Measurement measure(NativeAllocator allocator) {
        return measure(allocator, false);
    }

    /**
     * As {@link #measure(NativeAllocator)}; with {@code readMappings}, also the Rss of a Smalloc heap's own
     * mapping at each step. Reading smaps allocates megabytes of Strings, whose fresh Java-heap pages
     * would show in the process's RSS: measure the process without it.
     */
    static Measurement measure(NativeAllocator allocator, boolean readMappings) {
        Smalloc heap = readMappings && allocator instanceof Smalloc smalloc ? smalloc : null;
        long[] blocks = new long[BLOCKS];
        // warm-up on Smalloc, which gives all back: the code below compiled and the JVM's own growth done
        // before the baseline, and no memory that the measured allocator kept from a warm-up in it
        cycle(Smalloc.global(), blocks, BLOCKS);
        cycle(Smalloc.global(), blocks, BLOCKS);
        long baseline = processRss();
        long mappingBaseline = heap == null ? -1 : mappingRss(heap);
        for (int i = 0; i < BLOCKS; i++) {
            blocks[i] = allocator.alloc(BLOCK_BYTES, 16);
            if (blocks[i] == 0) {
                throw new OutOfMemoryError(allocator.name() + " could not allocate block " + i);
            }
            stampPages(blocks[i], i);
        }
        long peak = processRss();
        long mappingPeak = heap == null ? -1 : mappingRss(heap);
        for (int i = 0; i < BLOCKS; i += 2) {
            allocator.dealloc(blocks[i], BLOCK_BYTES, 16);
        }
        long half = processRss();
        long mappingHalf = heap == null ? -1 : mappingRss(heap);
        for (int i = 1; i < BLOCKS; i += 2) {
            checkPages(blocks[i], i);
            allocator.dealloc(blocks[i], BLOCK_BYTES, 16);
        }
        long after = processRss();
        long mappingAfter = heap == null ? -1 : mappingRss(heap);
        return new Measurement(allocator.name(), baseline, peak, half, after, mappingBaseline, mappingPeak, mappingHalf, mappingAfter);
    }

    /** Allocates and frees {@code count} blocks with every page touched. */
    private static void cycle(NativeAllocator allocator, long[] blocks, int count) {
        for (int i = 0; i < count; i++) {
            blocks[i] = allocator.alloc(BLOCK_BYTES, 16);
            stampPages(blocks[i], i);
        }
        for (int i = 0; i < count; i++) {
            checkPages(blocks[i], i);
            allocator.dealloc(blocks[i], BLOCK_BYTES, 16);
        }
    }

    private static MemorySegment block(long address) {
        return MemorySegment.ofAddress(address).reinterpret(BLOCK_BYTES);
    }

    private static void stampPages(long address, int blockIndex) {
        MemorySegment block = block(address);
        for (long offset = 0; offset < BLOCK_BYTES; offset += PAGE) {
            block.set(ValueLayout.JAVA_LONG, offset, stamp(blockIndex, offset));
        }
    }

    private static void checkPages(long address, int blockIndex) {
        MemorySegment block = block(address);
        for (long offset = 0; offset < BLOCK_BYTES; offset += PAGE) {
            long found = block.get(ValueLayout.JAVA_LONG, offset);
            if (found != stamp(blockIndex, offset)) {
                throw new AssertionError("block " + blockIndex + " at 0x" + Long.toHexString(address) + ": page at offset "
                        + offset + " holds " + found + ", not its stamp");
            }
        }
    }

    private static long stamp(int blockIndex, long offset) {
        return ((long) blockIndex << 32) ^ offset ^ 0x5A5A_0000_0000_5A5AL;
    }

    /** The resident set of this process, in bytes: the second field of /proc/self/statm, in pages. */
    static long processRss() {
        try {
            String statm = Files.readString(Path.of("/proc/self/statm"));
            int from = statm.indexOf(' ') + 1;
            return Long.parseLong(statm.substring(from, statm.indexOf(' ', from))) * PAGE;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Resident bytes of the mappings inside a heap's reserved range, from /proc/self/smaps. */
    static long mappingRss(Smalloc heap) {
        long probe = heap.alloc(0, 1);
        long base = probe & -heap.reservedBytes();
        heap.dealloc(probe, 0, 1);
        long end = base + heap.reservedBytes();
        long rss = 0;
        boolean inside = false;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
                    long stop = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                    inside = Long.compareUnsigned(start, base) >= 0 && Long.compareUnsigned(stop, end) <= 0;
                } else if (inside && line.startsWith("Rss:")) {
                    rss += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rss;
    }

    /** Smalloc (global), libc, jemalloc and mimalloc where they load. */
    static List<NativeAllocator> allocators() {
        List<NativeAllocator> allocators = new ArrayList<>();
        allocators.add(Smalloc.global());
        allocators.add(new SystemAllocator());
        Optional<NativeAllocator> jemalloc = LibraryAllocator.jemalloc();
        jemalloc.ifPresent(allocators::add);
        LibraryAllocator.mimalloc().ifPresent(allocators::add);
        return allocators;
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "-" : String.format("%.1f", bytes / (double) (1 << 20));
    }

    private static String above(long bytes, long baseline) {
        return bytes < 0 ? "-" : "+" + mib(bytes - baseline);
    }

    /** The table: one row per allocator, MiB above the baseline (and the baseline itself). */
    static String table(List<Measurement> rows) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("RSS, MiB: 1 GiB in 1 MiB blocks (every page touched); half = every other block freed "
                + "(512 MiB live); process RSS above its baseline (statm); map-*: the Smalloc heap mapping's own Rss "
                + "above its baseline (smaps, a run of its own)%n"));
        out.append(String.format("%-10s %9s %9s %9s %9s   %9s %9s %9s%n", "allocator", "baseline", "peak", "half", "after",
                "map-peak", "map-half", "map-after"));
        for (Measurement m : rows) {
            out.append(String.format("%-10s %9s %9s %9s %9s   %9s %9s %9s%n", m.allocator(), mib(m.baseline()),
                    "+" + mib(m.peak() - m.baseline()), "+" + mib(m.half() - m.baseline()), "+" + mib(m.after() - m.baseline()),
                    above(m.heapMappingPeak(), m.heapMappingBaseline()), above(m.heapMappingHalf(), m.heapMappingBaseline()),
                    above(m.heapMappingAfter(), m.heapMappingBaseline())));
        }
        return out.toString();
    }

    /**
     * Measures the allocators named in {@code args} ({@link Allocators#named} names; all that load when
     * none), in that order, in this JVM, and prints the table.
     */
    public static void main(String[] args) {
        List<Measurement> rows = new ArrayList<>();
        if (args.length == 0) {
            for (NativeAllocator allocator : allocators()) {
                rows.add(measure(allocator));
            }
            rows.add(measure(Smalloc.global(), true));
        }
        for (String name : args) {
            rows.add(measure(Allocators.named(name)));
            if (name.equals("smalloc")) {
                rows.add(measure(Smalloc.global(), true));
            }
        }
        System.out.print(table(rows));
    }
}
