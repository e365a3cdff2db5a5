package org.smalloc4j.tools.bench;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * Prints results as an aligned table, one group (workload, size, threads) at a time as the run goes.
 * The ratio column divides each allocator's ns/op by the fastest's in the same group; a star marks
 * the fastest. The last column is the peak RSS growth during the case, in MiB ({@code n/a} when it
 * cannot be measured).
 *
 * <pre>
 * workload  threads  size    allocator   ns/op   Mops/s  spread  ratio   RSS+MiB
 * pairs           1  16      smalloc      17.5    57.14      1%   1.79       0.1
 * pairs           1  16      system        9.8   102.04      2%   1.00 *     0.0
 * </pre>
 */
public final class ResultTable {

    private static final String[] HEADERS =
            {"workload", "threads", "size", "allocator", "ns/op", "Mops/s", "spread", "ratio", "", "RSS+MiB"};

    /** What the columns mean, printed above the header. */
    public static final List<String> LEGEND = List.of(
            "ns/op: per thread, median of the rounds; Mops/s: all threads; spread: (slowest - fastest round) / median",
            "ratio: ns/op / the fastest ns/op of the group, * marks the fastest; RSS+MiB: peak RSS growth in the case");

    private final PrintWriter out;
    private final String format;
    private final String headerFormat;
    private String lastWorkload;                 // of the group printed last; null before the first

    /**
     * @param workloads every workload of the run, to size the columns
     * @param allocatorNames every allocator of the run
     */
    public ResultTable(PrintWriter out, List<Workload> workloads, List<String> allocatorNames) {
        this.out = out;
        int workloadWidth = Math.max(HEADERS[0].length(), workloads.stream().mapToInt(w -> w.name().length()).max().orElse(0));
        int sizeWidth = Math.max(HEADERS[2].length(), workloads.stream().mapToInt(w -> w.sizeLabel().length()).max().orElse(0));
        int allocatorWidth = Math.max(HEADERS[3].length(), allocatorNames.stream().mapToInt(String::length).max().orElse(0));
        String columns = "%-" + workloadWidth + "s  %7s  %-" + sizeWidth + "s  %-" + allocatorWidth
                + "s  %8s  %8s  %6s  %5s %-1s  %8s%n";
        this.headerFormat = columns;
        this.format = columns.replace("%8s  %8s  %6s  %5s", "%8.1f  %8.2f  %5.0f%%  %5.2f");
    }

    /** Prints the legend and the header line. */
    public void printHeader() {
        LEGEND.forEach(out::println);
        out.println();
        out.printf(Locale.ROOT, headerFormat, (Object[]) HEADERS);
        out.flush();
    }

    /** Prints one group's rows, as {@link CaseResult#rankGroup} made them; a blank line before a new workload. */
    public void printGroup(List<CaseResult> group) {
        String workload = group.getFirst().workload();
        if (lastWorkload != null && !lastWorkload.equals(workload)) {
            out.println();
        }
        lastWorkload = workload;
        for (CaseResult row : group) {
            String rss = row.peakRssGrowthMiB().isPresent() ? mib(row.peakRssGrowthMiB().getAsDouble()) : "n/a";
            out.printf(Locale.ROOT, format, row.workload(), row.threads(), row.size(), row.allocator(), row.nsPerOp(),
                    row.opsPerSecond() / 1e6, 100 * row.spread(), row.ratioToBest(), row.best() ? "*" : "", rss);
        }
        out.flush();
    }

    /**
     * MiB to one decimal. The kernel's RSS counters are approximate (per-CPU caches), so a growth of
     * nothing can read a few pages below zero: that prints as 0.0, not -0.0.
     */
    static String mib(double value) {
        double rounded = Math.round(value * 10) / 10.0;
        return String.format(Locale.ROOT, "%.1f", rounded == 0 ? 0.0 : rounded);
    }
}
