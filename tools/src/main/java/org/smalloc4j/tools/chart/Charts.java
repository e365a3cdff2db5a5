package org.smalloc4j.tools.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DefaultDrawingSupplier;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * Charts for the tools' reports, drawn with JFreeChart: line charts of numeric series and grouped bar
 * charts, written as SVG (through JFreeSVG) or PNG (through {@link ChartUtils}).
 *
 * <p>Every chart has the same look: a white plot with light grey grid lines, the legend below, and
 * one fixed colour per series in the order the series are given (the Okabe-Ito palette, which
 * readers with a colour-vision deficiency can tell apart), so that the same allocator keeps its
 * colour from chart to chart when callers pass series in the same order.
 *
 * <p>Rendering needs no display: this class sets {@code java.awt.headless=true} when it is loaded,
 * unless the property was already set. Fonts are AWT's logical "SansSerif" (DejaVu Sans on Debian).
 */
public final class Charts {

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Okabe-Ito colours, black left out (it reads as an axis): one per series, then again from the start. */
    private static final Color[] PALETTE = {
        new Color(0x0072B2), new Color(0xE69F00), new Color(0x009E73), new Color(0xD55E00),
        new Color(0x56B4E9), new Color(0xCC79A7), new Color(0xF0E442), new Color(0x999999),
    };

    private static final Color GRID = new Color(0xDDDDDD);

    /** Tells the SVG elements of one JVM apart: their clip-path ids must not clash when several share a page. */
    private static final AtomicLong SVG_COUNT = new AtomicLong();

    private Charts() {
    }

    /**
     * One line of a line chart: points {@code (x[i], y[i])} joined in the order given.
     *
     * @param name the series' name in the legend
     * @param x the x values
     * @param y the y values, as many as {@code x}; {@code NaN} leaves a gap
     */
    public record Series(String name, double[] x, double[] y) {

        /**
         * @throws IllegalArgumentException if the name is blank, the arrays differ in length, or an x value is not finite
         */
        public Series {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a series needs a name, got '" + name + "'");
            }
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "' has " + x.length + " x values but "
                        + y.length + " y values");
            }
            for (double value : x) {
                if (!Double.isFinite(value)) {
                    throw new IllegalArgumentException("series '" + name + "' has x value " + value);
                }
            }
            x = x.clone();
            y = y.clone();
        }

        /** The x values (a copy). */
        @Override
        public double[] x() {
            return x.clone();
        }

        /** The y values (a copy). */
        @Override
        public double[] y() {
            return y.clone();
        }
    }

    /**
     * A line chart with one line (and a marker on each point) per series.
     *
     * @throws IllegalArgumentException if two series share a name
     */
    public static JFreeChart line(String title, String xLabel, String yLabel, List<Series> series) {
        XYSeriesCollection dataset = new XYSeriesCollection();
        for (Series one : series) {
            if (dataset.getSeriesIndex(one.name()) >= 0) {
                throw new IllegalArgumentException("two series are named '" + one.name() + "'");
            }
            XYSeries points = new XYSeries(one.name(), false, true);
            double[] x = one.x();
            double[] y = one.y();
            for (int i = 0; i < x.length; i++) {
                points.add(x[i], Double.isNaN(y[i]) ? null : y[i]);
            }
            dataset.addSeries(points);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, dataset, PlotOrientation.VERTICAL,
                true, false, false);
        applyTheme(chart);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < series.size(); i++) {
            renderer.setSeriesPaint(i, colour(i));
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        return chart;
    }

    /**
     * A grouped bar chart: one group of bars per category, one bar per series in each group, the
     * series in the legend. Categories appear in the order first met (iterate the maps in a stable
     * order, e.g. {@link java.util.LinkedHashMap}); a category missing from a series, or a
     * {@code NaN} or {@code null} value, draws no bar.
     *
     * @param categoryAxis the label under the groups
     * @param valueAxis the label of the value axis
     * @param valueBySeriesThenCategory series name -> (category -> value)
     * @throws IllegalArgumentException if a value is infinite
     */
    public static JFreeChart bars(String title, String categoryAxis, String valueAxis,
            Map<String, Map<String, Double>> valueBySeriesThenCategory) {
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        valueBySeriesThenCategory.forEach((series, byCategory) -> byCategory.forEach((category, value) -> {
            if (value != null && Double.isInfinite(value)) {
                throw new IllegalArgumentException("series '" + series + "', category '" + category + "' has value "
                        + value);
            }
            dataset.addValue(value == null || value.isNaN() ? null : value, series, category);
        }));
        JFreeChart chart = ChartFactory.createBarChart(title, categoryAxis, valueAxis, dataset);
        applyTheme(chart);
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setItemMargin(0.05);
        for (int i = 0; i < dataset.getRowCount(); i++) {
            renderer.setSeriesPaint(i, colour(i));
        }
        CategoryAxis axis = plot.getDomainAxis();
        axis.setCategoryMargin(0.25);
        if (dataset.getColumnCount() > 6) {
            axis.setCategoryLabelPositions(CategoryLabelPositions.UP_45); // many groups: slanted labels still fit
        }
        return chart;
    }

    /**
     * The chart as an {@code <svg>} element of {@code width} x {@code height} pixels, without an XML
     * declaration, ready to inline into HTML. Its internal ids are unique within this JVM, so that
     * several charts can share a page.
     *
     * @throws IllegalArgumentException if a dimension is not positive
     */
    public static String svg(JFreeChart chart, int width, int height) {
        checkSize(width, height);
        SVGGraphics2D graphics = new SVGGraphics2D(width, height);
        graphics.setDefsKeyPrefix("chart" + SVG_COUNT.incrementAndGet() + "-");
        graphics.setGeomDoubleConverter(Charts::hundredths);
        chart.draw(graphics, new Rectangle(0, 0, width, height));
        return graphics.getSVGElement();
    }

    /**
     * Writes the chart to a file, as SVG or PNG by the file name's extension ({@code .svg},
     * {@code .png}, in any case). The folder must exist; an existing file is replaced.
     *
     * @throws IllegalArgumentException if the extension is neither, or a dimension is not positive
     * @throws IOException if the file cannot be written
     */
    public static void write(JFreeChart chart, Path svgOrPng, int width, int height) throws IOException {
        checkSize(width, height);
        String fileName = svgOrPng.getFileName() == null ? "" : svgOrPng.getFileName().toString().toLowerCase(Locale.ROOT);
        if (fileName.endsWith(".svg")) {
            String document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg(chart, width, height) + "\n";
            Files.writeString(svgOrPng, document, StandardCharsets.UTF_8);
        } else if (fileName.endsWith(".png")) {
            ChartUtils.saveChartAsPNG(svgOrPng.toFile(), chart, width, height);
        } else {
            throw new IllegalArgumentException("chart file " + svgOrPng + " should end in .svg or .png");
        }
    }

    /**
     * A coordinate to a hundredth of a pixel, without trailing zeros: JFreeSVG writes every digit of a
     * double by default, which makes a line chart of a few thousand points several times larger.
     */
    static String hundredths(double value) {
        if (!Double.isFinite(value) || Math.abs(value) >= 1e12) { // far off any canvas: as it is
            return Double.toString(value);
        }
        double rounded = Math.round(value * 100) / 100.0;
        return rounded == Math.rint(rounded) ? Long.toString((long) rounded) : Double.toString(rounded);
    }

    private static void checkSize(int width, int height) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("chart size " + width + " x " + height + " is not positive");
        }
    }

    private static Paint colour(int seriesIndex) {
        return PALETTE[seriesIndex % PALETTE.length];
    }

    /**
     * The common look: white backgrounds, light grid, plain sans-serif text, flat bars. Applied before a
     * chart's own settings, since a theme clears the series paints a renderer was given.
     */
    private static void applyTheme(JFreeChart chart) {
        StandardChartTheme theme = new StandardChartTheme("smalloc4j");
        theme.setExtraLargeFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        theme.setLargeFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        theme.setRegularFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        theme.setSmallFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        theme.setChartBackgroundPaint(Color.WHITE);
        theme.setPlotBackgroundPaint(Color.WHITE);
        theme.setDomainGridlinePaint(GRID);
        theme.setRangeGridlinePaint(GRID);
        theme.setLegendBackgroundPaint(Color.WHITE);
        theme.setBarPainter(new StandardBarPainter());
        theme.setShadowVisible(false);
        theme.setDrawingSupplier(new DefaultDrawingSupplier(PALETTE,
                DefaultDrawingSupplier.DEFAULT_FILL_PAINT_SEQUENCE, DefaultDrawingSupplier.DEFAULT_OUTLINE_PAINT_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_STROKE_SEQUENCE, DefaultDrawingSupplier.DEFAULT_OUTLINE_STROKE_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_SHAPE_SEQUENCE));
        theme.apply(chart);
    }
}
