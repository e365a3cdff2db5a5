package org.smalloc4j.tools.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.jfree.chart.JFreeChart;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.ReplayReport;
import org.smalloc4j.tools.replay.ReplaySettings;
import org.smalloc4j.tools.replay.Sample;
import org.smalloc4j.tools.replay.SizeClassWaste;
import org.smalloc4j.tools.replay.TraceSummary;

/** The report's four charts hold the replays' numbers, one series per allocator in the order they ran. */
class ReportChartsTest {

    private static AllocatorReplay replay(String allocator, long medianNanos, long rssAtPeak, List<SizeClassWaste> waste) {
        List<Sample> series = List.of(new Sample(0, 0, 0), new Sample(50, 2 << 20, rssAtPeak), new Sample(100, 0, -1));
        return new AllocatorReplay(allocator, 100, List.of(medianNanos), medianNanos, medianNanos / 100.0, 2 << 20, 0,
                1 << 30, rssAtPeak, rssAtPeak, -1, 1.5, null, series, !waste.isEmpty(), waste);
    }

    private static ReplayReport report() {
        TraceSummary trace = new TraceSummary("traces/app.trace.gz", "tracking:smalloc", true, 100, 50, 1, 0, 2 << 20, 50, 0);
        return new ReplayReport("smalloc4j report traces/app.trace.gz", trace, new ReplaySettings(0, 3, 50, false),
                List.of(replay("smalloc", 2_000_000, 3 << 20, List.of(new SizeClassWaste(16, 10, 120, 160),
                                new SizeClassWaste(4096, 1, 3000, 4096))),
                        replay("system", 1_000_000, 4 << 20, List.of())));
    }

    @Test
    void fourChartsWithASeriesPerAllocator() {
        List<ReportCharts.Figure> figures = ReportCharts.of(report());
        assertEquals(List.of("live", "rss", "time", "waste"), figures.stream().map(ReportCharts.Figure::name).toList());
        assertEquals("app: RSS growth over the trace", figures.get(1).chart().getTitle().getText());

        XYDataset live = figures.get(0).chart().getXYPlot().getDataset();
        assertEquals(2, live.getSeriesCount());
        assertEquals(2.0, live.getYValue(1, 1), "system's live MiB at operation 50");

        XYDataset rss = figures.get(1).chart().getXYPlot().getDataset();
        assertEquals(List.of("smalloc", "system", ReportCharts.LIVE_LINE),
                List.of(rss.getSeriesKey(0), rss.getSeriesKey(1), rss.getSeriesKey(2)));
        assertEquals(4.0, rss.getYValue(1, 1), "system's RSS growth in MiB");
        assertTrue(Double.isNaN(rss.getYValue(0, 2)), "an unmeasured sample is a gap");

        CategoryDataset time = figures.get(2).chart().getCategoryPlot().getDataset();
        assertEquals(2.0, time.getValue("smalloc", "median timed pass").doubleValue(), "milliseconds");
        assertEquals(1.0, time.getValue("system", "median timed pass").doubleValue());

        JFreeChart wasteChart = figures.get(3).chart();
        CategoryDataset waste = wasteChart.getCategoryPlot().getDataset();
        assertEquals(List.of("smalloc", "system"), waste.getRowKeys(), "system stays a series: colours stay");
        assertEquals(List.of("16", "4K"), waste.getColumnKeys());
        assertEquals(25.0, waste.getValue("smalloc", "16").doubleValue(), "40 of 160 usable bytes");
        assertNull(waste.getValue("system", "16"), "system cannot tell usable sizes: no bar");
        assertTrue(figures.get(2).svg().startsWith("<svg"));
    }

    @Test
    void shortSizesUseBinaryUnitsOnlyForWholeMultiples() {
        assertEquals("1", ReportCharts.shortSize(1));
        assertEquals("512", ReportCharts.shortSize(512));
        assertEquals("1K", ReportCharts.shortSize(1024));
        assertEquals("256K", ReportCharts.shortSize(256 << 10));
        assertEquals("2M", ReportCharts.shortSize(2 << 20));
        assertEquals("1G", ReportCharts.shortSize(1L << 30));
        assertEquals("1536", ReportCharts.shortSize(1536));
    }
}
