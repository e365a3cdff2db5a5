package org.smalloc4j.tools.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jfree.chart.JFreeChart;
import org.smalloc4j.tools.chart.Charts;

/**
 * A run's charts, each as SVG and PNG: one grouped bar chart per workload, {@code <workload>.svg}
 * (ns/op per allocator, a group per size and thread count), and {@value #PEAK_RSS}{@code .svg} (peak
 * RSS growth per allocator, a group per case) when peak RSS was measured. Allocators keep their
 * colour from chart to chart: the series are always in the run's allocator order.
 */
public final class ResultCharts {

    /** The base name of the peak RSS chart (no workload has this name). */
    public static final String PEAK_RSS = "peak-rss";

    private static final int HEIGHT = 500;
    private static final int MIN_WIDTH = 800;
    private static final int MAX_WIDTH = 2400;
    private static final int PIXELS_PER_BAR = 18;

    private ResultCharts() {
    }

    /**
     * Writes every chart of the rows into {@code folder} and returns the files written, SVG before PNG.
     *
     * @param allocators the run's allocators in table order: the order of the series
     */
    public static List<Path> write(Path folder, List<String> allocators, List<CaseResult> rows) throws IOException {
        List<Path> written = new ArrayList<>();
        Set<String> workloads = new LinkedHashSet<>();
        rows.forEach(row -> workloads.add(row.workload()));
        for (String workload : workloads) {
            Map<String, Map<String, Double>> nsPerOp = emptySeries(allocators);
            for (CaseResult row : rows) {
                if (row.workload().equals(workload)) {
                    nsPerOp.computeIfAbsent(row.allocator(), name -> new LinkedHashMap<>()).put(group(row), row.nsPerOp());
                }
            }
            writeBoth(folder, workload, Charts.bars(workload + ": ns/op per thread (lower is faster)",
                    "size, threads", "ns/op per thread", nsPerOp), written);
        }
        if (rows.stream().anyMatch(row -> row.peakRssGrowthMiB().isPresent())) {
            Map<String, Map<String, Double>> growth = emptySeries(allocators);
            for (CaseResult row : rows) {
                growth.computeIfAbsent(row.allocator(), name -> new LinkedHashMap<>()).put(row.workload() + " " + group(row),
                        row.peakRssGrowthMiB().isPresent() ? row.peakRssGrowthMiB().getAsDouble() : null);
            }
            writeBoth(folder, PEAK_RSS, Charts.bars("Peak RSS growth during each case (whole JVM)",
                    "workload, size, threads", "MiB", growth), written);
        }
        return written;
    }

    /** The bar group of a row: its size and thread count, e.g. "16, 2 threads". */
    static String group(CaseResult row) {
        return row.size() + ", " + row.threads() + (row.threads() == 1 ? " thread" : " threads");
    }

    private static Map<String, Map<String, Double>> emptySeries(List<String> allocators) {
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        allocators.forEach(allocator -> series.put(allocator, new LinkedHashMap<>()));
        return series;
    }

    private static void writeBoth(Path folder, String baseName, JFreeChart chart, List<Path> written) throws IOException {
        int bars = chart.getCategoryPlot().getDataset().getRowCount() * chart.getCategoryPlot().getDataset().getColumnCount();
        int width = Math.clamp(160L + (long) bars * PIXELS_PER_BAR, MIN_WIDTH, MAX_WIDTH);
        for (String extension : List.of(".svg", ".png")) {
            Path file = folder.resolve(baseName + extension);
            Charts.write(chart, file, width, HEIGHT);
            written.add(file);
        }
    }
}
