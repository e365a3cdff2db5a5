package org.smalloc4j.tools.bench;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * Prints measurements as an aligned table, one group (workload, size, threads) at a time as the run
 * goes. The ratio column divides each allocator's ns/op by the baseline's in the same group: smalloc
 * when it is in the run, else the fastest of the group.
 *
 * <pre>
 * workload  threads  size    allocator   ns/op  spread  ratio
 * pairs           1  16      smalloc       9.8      2%   1.00
 * pairs           1  16      system       17.5      1%   1.79
 * </pre>
 */
public final class ResultTable {

    /** The allocator whose ns/op is the ratio's denominator when it is in the run. */
    public static final String BASELINE = "smalloc";

    private static final String[] HEADERS = {"workload", "threads", "size", "allocator", "ns/op", "spread", "ratio"};

    private final PrintWriter out;
    private final String format;
    private final String headerFormat;

    /**
     * @param workloads every workload of the run, to size the columns
     * @param allocatorNames every allocator of the run
     */
    public ResultTable(PrintWriter out, List<Workload> workloads, List<String> allocatorNames) {
        this.out = out;
        int workloadWidth = Math.max(HEADERS[0].length(), workloads.stream().mapToInt(w -> w.name().length()).max().orElse(0));
        int sizeWidth = Math.max(HEADERS[2].length(), workloads.stream().mapToInt(w -> w.sizeLabel().length()).max().orElse(0));
        int allocatorWidth = Math.max(HEADERS[3].length(), allocatorNames.stream().mapToInt(String::length).max().orElse(0));
        String columns = "%-" + workloadWidth + "s  %7s  %-" + sizeWidth + "s  %-" + allocatorWidth + "s  %9s  %6s  %6s%n";
        this.headerFormat = columns;
        this.format = columns.replace("%9s", "%9.1f").replace("%6s  %6s", "%5.0f%%  %6.2f");
    }

    /** Prints the header line. */
    public void printHeader() {
        out.printf(Locale.ROOT, headerFormat, (Object[]) HEADERS);
        out.flush();
    }

    /** Prints one group's rows: the same workload and thread count, one row per allocator. */
    public void printGroup(List<Measurement> group) {
        double baseline = baseline(group);
        for (Measurement m : group) {
            out.printf(Locale.ROOT, format, m.workload().name(), m.threads(), m.workload().sizeLabel(),
                    m.allocatorName(), m.nsPerOp(), 100 * m.spread(), m.nsPerOp() / baseline);
        }
        out.flush();
    }

    /** The denominator of a group's ratios: smalloc's ns/op if it ran, else the fastest. */
    static double baseline(List<Measurement> group) {
        return group.stream()
                .filter(m -> m.allocatorName().equals(BASELINE))
                .mapToDouble(Measurement::nsPerOp)
                .findFirst()
                .orElseGet(() -> group.stream().mapToDouble(Measurement::nsPerOp).min().orElseThrow());
    }
}
