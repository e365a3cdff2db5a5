package org.smalloc4j.tools.replay;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The tables of a {@link ReplayReport}: printed for people, and written as files for
 * spreadsheets and other tools ({@link #write}).
 */
public final class ReplayOutput {

    private static final double MIB = 1024.0 * 1024.0;

    private ReplayOutput() {
    }

    /** Prints one row per allocator and the waste per allocator. */
    public static void print(PrintWriter out, ReplayReport report) {
        double best = report.allocators().stream().mapToDouble(AllocatorReplay::nsPerOp).min().orElse(0);
        out.printf(Locale.ROOT, "%-14s %10s %8s %11s %13s %12s %10s %9s %7s%n", "allocator", "time", "ns/op",
                "peak live", "peak RSS grow", "RSS grow end", "frag@peak", "frag@end", "ratio");
        for (AllocatorReplay replay : report.allocators()) {
            out.printf(Locale.ROOT, "%-14s %8.1fms %8.1f %11s %13s %12s %10s %9s %7.2f%n", replay.allocator(),
                    replay.medianNanos() / 1e6, replay.nsPerOp(), mib(replay.peakLiveBytes()),
                    replay.peakRssGrowthBytes() < 0 ? "n/a" : mib(replay.peakRssGrowthBytes()),
                    replay.rssGrowthAtEndBytes() < 0 ? "n/a" : mib(replay.rssGrowthAtEndBytes()),
                    times(replay.fragmentationAtPeak()), times(replay.fragmentationAtEnd()),
                    best > 0 ? replay.nsPerOp() / best : 1.0);
        }
        out.println();
        out.println("internal waste (usable - requested bytes, over every block made or resized):");
        for (AllocatorReplay replay : report.allocators()) {
            if (!replay.usableSizeKnown()) {
                out.printf(Locale.ROOT, "  %-14s n/a (the allocator cannot tell a block's usable size)%n",
                        replay.allocator());
                continue;
            }
            long requested = replay.waste().stream().mapToLong(SizeClassWaste::requestedBytes).sum();
            long usable = replay.waste().stream().mapToLong(SizeClassWaste::usableBytes).sum();
            out.printf(Locale.ROOT, "  %-14s %s of %s usable (%.1f%%)%n", replay.allocator(),
                    mib(replay.totalWasteBytes()), mib(usable),
                    usable == 0 ? 0.0 : 100.0 * (usable - requested) / usable);
        }
        printWasteByClass(out, report);
        out.flush();
    }

    /** Waste as a share of usable bytes, one row per size class, one column per allocator that can tell. */
    private static void printWasteByClass(PrintWriter out, ReplayReport report) {
        List<AllocatorReplay> known = report.allocators().stream().filter(AllocatorReplay::usableSizeKnown).toList();
        SortedMap<Long, Long> blocksByClass = new TreeMap<>();
        for (AllocatorReplay replay : known) {
            replay.waste().forEach(w -> blocksByClass.merge(w.maxBytes(), w.blocks(), Math::max));
        }
        if (blocksByClass.isEmpty()) {
            return;
        }
        out.println();
        out.println("internal waste by requested size (% of usable bytes):");
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "  %-16s %9s", "size", "blocks"));
        known.forEach(replay -> header.append(String.format(Locale.ROOT, " %10s", replay.allocator())));
        out.println(header);
        for (var sizeClass : blocksByClass.entrySet()) {
            long maxBytes = sizeClass.getKey();
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-16s %9d",
                    (maxBytes <= 1 ? 0 : maxBytes / 2 + 1) + ".." + maxBytes, sizeClass.getValue()));
            for (AllocatorReplay replay : known) {
                row.append(replay.waste().stream().filter(w -> w.maxBytes() == maxBytes).findFirst()
                        .map(w -> String.format(Locale.ROOT, " %9.1f%%", 100 * w.wasteShare()))
                        .orElse(String.format(Locale.ROOT, " %10s", "-")));
            }
            out.println(row);
        }
    }

    /**
     * Writes {@code replay.json} (the whole report, series included), {@code summary.csv} (one row per
     * allocator), {@code series.csv} (op, live bytes, RSS growth per allocator) and {@code waste.csv}
     * (per allocator and size class) into {@code directory}, creating it if needed.
     *
     * @return the files written
     */
    public static List<Path> write(Path directory, ReplayReport report) throws IOException {
        Files.createDirectories(directory);
        List<Path> files = new ArrayList<>();
        Path json = directory.resolve("replay.json");
        ReplayJson.write(json, report);
        files.add(json);

        List<String> summary = new ArrayList<>(List.of("allocator,operations,median_ns,ns_per_op,peak_live_bytes,"
                + "end_live_bytes,rss_at_start_bytes,peak_rss_growth_bytes,rss_growth_at_peak_live_bytes,"
                + "rss_growth_at_end_bytes,fragmentation_at_peak,fragmentation_at_end,waste_bytes"));
        List<String> series = new ArrayList<>(List.of("allocator,op,live_bytes,rss_growth_bytes"));
        List<String> waste = new ArrayList<>(List.of("allocator,size_class_max_bytes,blocks,requested_bytes,"
                + "usable_bytes,waste_bytes,waste_share"));
        for (AllocatorReplay r : report.allocators()) {
            summary.add(String.join(",", r.allocator(), Long.toString(r.operations()), Long.toString(r.medianNanos()),
                    String.format(Locale.ROOT, "%.3f", r.nsPerOp()), Long.toString(r.peakLiveBytes()),
                    Long.toString(r.endLiveBytes()), Long.toString(r.rssAtStartBytes()),
                    Long.toString(r.peakRssGrowthBytes()), Long.toString(r.rssGrowthAtPeakLiveBytes()),
                    Long.toString(r.rssGrowthAtEndBytes()), csv(r.fragmentationAtPeak()), csv(r.fragmentationAtEnd()),
                    r.usableSizeKnown() ? Long.toString(r.totalWasteBytes()) : ""));
            for (Sample s : r.series()) {
                series.add(r.allocator() + "," + s.op() + "," + s.liveBytes() + "," + s.rssGrowthBytes());
            }
            for (SizeClassWaste w : r.waste()) {
                waste.add(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%d,%.4f", r.allocator(), w.maxBytes(), w.blocks(),
                        w.requestedBytes(), w.usableBytes(), w.wasteBytes(), w.wasteShare()));
            }
        }
        files.add(Files.write(directory.resolve("summary.csv"), summary));
        files.add(Files.write(directory.resolve("series.csv"), series));
        files.add(Files.write(directory.resolve("waste.csv"), waste));
        return files;
    }

    /** Bytes in MiB with one decimal, or KiB below 1 MiB: {@code 13.4 MiB}, {@code 0.5 KiB}. */
    public static String mib(long bytes) {
        return Math.abs(bytes) < MIB ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(Locale.ROOT, "%.1f MiB", bytes / MIB);
    }

    private static String times(Double ratio) {
        return ratio == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", ratio);
    }

    private static String csv(Double value) {
        return value == null ? "" : String.format(Locale.ROOT, "%.4f", value);
    }
}
