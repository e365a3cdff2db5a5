package org.smalloc4j.tools.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.smalloc4j.tools.chart.Charts;
import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.ReplayReport;
import org.smalloc4j.tools.replay.Sample;

/**
 * The four charts of a report, one series per allocator in the order they ran (so that each keeps
 * its colour from chart to chart): live bytes and RSS growth over the measured pass (x = operations
 * done), the median timed pass, and internal waste per size class.
 */
public final class ReportCharts {

    /** The name of the line that shows the trace's own live bytes on the RSS chart. */
    static final String LIVE_LINE = "live bytes (trace)";

    private static final Color REFERENCE = new Color(0x555555);
    private static final double MIB = 1024.0 * 1024.0;
    private static final int WIDTH = 960;
    private static final int LINE_HEIGHT = 400;
    private static final int BAR_HEIGHT = 360;

    /**
     * One chart and what to call it.
     *
     * @param name the file-name part: {@code live}, {@code rss}, {@code time}, {@code waste}
     * @param caption one or two sentences under the chart on the page
     * @param chart the chart
     * @param width its width in pixels
     * @param height its height in pixels
     */
    public record Figure(String name, String caption, JFreeChart chart, int width, int height) {

        /** The chart as an inline {@code <svg>} element. */
        public String svg() {
            return Charts.svg(chart, width, height);
        }
    }

    private ReportCharts() {
    }

    /** The charts of {@code report}: live bytes, RSS growth, time, waste. */
    public static List<Figure> of(ReplayReport report) {
        List<AllocatorReplay> replays = report.allocators();
        String trace = ReportPage.traceName(report.trace().file()) + ": ";
        List<Figure> figures = new ArrayList<>();

        List<Charts.Series> live = new ArrayList<>();
        replays.forEach(replay -> live.add(series(replay.allocator(), replay.series(), Sample::liveBytes)));
        figures.add(new Figure("live", "Bytes live after each operation of the measured pass, as the trace's callers"
                + " requested them. They are the same on every allocator (the replay performs the trace's operations"
                + " exactly), so the lines lie on top of each other.",
                withoutMarkers(Charts.line(trace + "live bytes over the trace", "operations done", "MiB live", live)),
                WIDTH, LINE_HEIGHT));

        List<Charts.Series> rss = new ArrayList<>();
        replays.forEach(replay -> rss.add(series(replay.allocator(), replay.series(), Sample::rssGrowthBytes)));
        if (!replays.isEmpty()) {
            rss.add(series(LIVE_LINE, replays.getFirst().series(), Sample::liveBytes));
        }
        figures.add(new Figure("rss", "Growth of each child JVM's resident set (VmRSS) over its size when the measured"
                + " pass began, with the trace's live bytes for reference: the distance between an allocator's line"
                + " and the live line is what it holds beyond the live blocks (and a few MiB of the JVM's own).",
                liveAsReference(withoutMarkers(Charts.line(trace + "RSS growth over the trace", "operations done",
                        "MiB", rss))),
                WIDTH, LINE_HEIGHT));

        Map<String, Map<String, Double>> time = new LinkedHashMap<>();
        replays.forEach(replay -> time.put(replay.allocator(), Map.of("median timed pass", replay.medianNanos() / 1e6)));
        figures.add(new Figure("time", String.format(Locale.ROOT, "Median of %d timed pass%s per allocator,"
                        + " each replaying all %,d operations (lower is faster).", report.settings().repeat(),
                        report.settings().repeat() == 1 ? "" : "es", report.trace().operations()),
                Charts.bars(trace + "replay time", "", "ms", time), WIDTH, BAR_HEIGHT));

        figures.add(new Figure("waste", "Internal waste: of the bytes each allocator made usable for the blocks whose"
                + " requested size falls in a class, the share beyond what was requested. No waste is a bar of height 0;"
                + " an allocator that cannot tell a block's usable size has no value at all.",
                levelLabels(Charts.bars(trace + "internal waste by requested size",
                        "requested bytes: above half the figure, up to it (K = KiB, M = MiB, G = GiB)",
                        "% of usable bytes", waste(replays))),
                WIDTH, BAR_HEIGHT));
        return figures;
    }

    private static Charts.Series series(String name, List<Sample> samples, ToLongFunction<Sample> bytes) {
        double[] x = new double[samples.size()];
        double[] y = new double[samples.size()];
        for (int i = 0; i < x.length; i++) {
            Sample sample = samples.get(i);
            long value = bytes.applyAsLong(sample);
            x[i] = sample.op();
            y[i] = value < 0 ? Double.NaN : value / MIB; // -1: not measured, a gap
        }
        return new Charts.Series(name, x, y);
    }

    /**
     * A few hundred samples per line: markers on each would hide the lines, and a line drawn segment by
     * segment is an SVG element per segment; one path per series keeps the file small.
     */
    private static JFreeChart withoutMarkers(JFreeChart chart) {
        XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
        renderer.setDefaultShapesVisible(false);
        renderer.setDrawSeriesLineAsPath(true);
        return chart;
    }

    /** The last series, the trace's live bytes, as a reference: dashed and grey, not an allocator's colour. */
    private static JFreeChart liveAsReference(JFreeChart chart) {
        XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
        int last = chart.getXYPlot().getDataset().getSeriesCount() - 1;
        if (last < 0) {
            return chart;
        }
        renderer.setSeriesPaint(last, REFERENCE);
        renderer.setSeriesStroke(last, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 4f}, 0f));
        return chart;
    }

    /**
     * Category labels written level: Charts slants them when there are many, and JFreeSVG draws slanted
     * text as glyph outlines, some KiB per label.
     */
    private static JFreeChart levelLabels(JFreeChart chart) {
        CategoryAxis axis = chart.getCategoryPlot().getDomainAxis();
        axis.setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
        axis.setMaximumCategoryLabelLines(2);
        return chart;
    }

    /** {@code 512}, {@code 4K}, {@code 2M}: a power of two short enough to label a bar group level. */
    static String shortSize(long bytes) {
        String[] units = {"", "K", "M", "G", "T", "P", "E"};
        int unit = 0;
        while (bytes >= 1024 && bytes % 1024 == 0 && unit < units.length - 1) {
            bytes /= 1024;
            unit++;
        }
        return bytes + units[unit];
    }

    /** Waste % per allocator and size class; every allocator is a series, so that colours stay. */
    private static Map<String, Map<String, Double>> waste(List<AllocatorReplay> replays) {
        SortedSet<Long> classes = new TreeSet<>();
        replays.forEach(replay -> replay.waste().forEach(w -> classes.add(w.maxBytes())));
        Map<String, Map<String, Double>> waste = new LinkedHashMap<>();
        for (AllocatorReplay replay : replays) {
            Map<String, Double> byClass = new LinkedHashMap<>();
            for (long maxBytes : classes) {
                byClass.put(shortSize(maxBytes), replay.waste().stream().filter(w -> w.maxBytes() == maxBytes)
                        .findFirst().map(w -> 100 * w.wasteShare()).orElse(null));
            }
            waste.put(replay.allocator(), byClass);
        }
        return waste;
    }
}
