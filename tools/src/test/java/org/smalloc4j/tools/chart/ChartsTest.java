package org.smalloc4j.tools.chart;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;

import org.jfree.chart.JFreeChart;
import org.jfree.data.category.CategoryDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Charts come out as SVG that an XML parser reads and PNG that ImageIO reads, with the data in them. */
class ChartsTest {

    private static final String SVG_NAMESPACE = "http://www.w3.org/2000/svg";

    @TempDir
    Path folder;

    private static Map<String, Map<String, Double>> nsByAllocatorThenGroup() {
        Map<String, Map<String, Double>> values = new LinkedHashMap<>();
        values.put("smalloc", new LinkedHashMap<>(Map.of("16 B, 1 thread", 14.0)));
        values.get("smalloc").put("16 B, 2 threads", 19.5);
        values.put("system", new LinkedHashMap<>(Map.of("16 B, 1 thread", 12.0)));
        values.get("system").put("16 B, 2 threads", 12.5);
        return values;
    }

    private static Document parseSvg(String svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<String> texts(Document document) {
        NodeList nodes = document.getElementsByTagNameNS(SVG_NAMESPACE, "text");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            texts.add(nodes.item(i).getTextContent());
        }
        return texts;
    }

    @Test
    void barsAreAnSvgElementWithTitleLegendAndGroups() throws Exception {
        JFreeChart chart = Charts.bars("pairs", "size, threads", "ns/op", nsByAllocatorThenGroup());
        String svg = Charts.svg(chart, 800, 450);
        assertTrue(svg.startsWith("<svg"), "inlinable, no XML declaration: " + svg.substring(0, 40));
        Element root = parseSvg(svg).getDocumentElement();
        assertEquals("svg", root.getLocalName());
        assertEquals(SVG_NAMESPACE, root.getNamespaceURI());
        assertEquals(800, Double.parseDouble(root.getAttribute("width")));
        assertEquals(450, Double.parseDouble(root.getAttribute("height")));
        // the value axis label is turned on its side, which JFreeSVG draws as glyph outlines, not text
        List<String> texts = texts(root.getOwnerDocument());
        for (String expected : List.of("pairs", "size, threads", "smalloc", "system", "16 B, 1 thread",
                "16 B, 2 threads")) {
            assertTrue(texts.contains(expected), expected + " missing from the texts " + texts);
        }
    }

    @Test
    void coordinatesAreWrittenToAHundredthOfAPixel() {
        assertEquals("12", Charts.hundredths(12.0));
        assertEquals("12.35", Charts.hundredths(12.3456));
        assertEquals("-0.5", Charts.hundredths(-0.5));
        assertEquals("0", Charts.hundredths(-0.001));
        assertEquals("1.0E13", Charts.hundredths(1e13), "far off the canvas: as it is");
        assertEquals("NaN", Charts.hundredths(Double.NaN));
        String svg = Charts.svg(Charts.bars("t", "c", "v", nsByAllocatorThenGroup()), 777, 333);
        assertTrue(!java.util.regex.Pattern.compile("\\d\\.\\d{3}").matcher(svg.replaceAll("<text[^>]*>", ""))
                .find(), "no coordinate with three decimals");
    }

    @Test
    void barsKeepTheGivenOrderAndLeaveMissingValuesOut() {
        Map<String, Map<String, Double>> values = nsByAllocatorThenGroup();
        values.put("jemalloc", new LinkedHashMap<>());
        values.get("jemalloc").put("16 B, 1 thread", Double.NaN);
        values.get("jemalloc").put("16 B, 2 threads", null);
        CategoryDataset dataset = Charts.bars("t", "c", "v", values).getCategoryPlot().getDataset();
        assertEquals(List.of("smalloc", "system", "jemalloc"), dataset.getRowKeys());
        assertEquals(List.of("16 B, 1 thread", "16 B, 2 threads"), dataset.getColumnKeys());
        assertEquals(19.5, dataset.getValue("smalloc", "16 B, 2 threads").doubleValue());
        assertNull(dataset.getValue("jemalloc", "16 B, 1 thread"));
        assertNull(dataset.getValue("jemalloc", "16 B, 2 threads"));
    }

    @Test
    void lineChartIsValidSvgWithItsSeries() throws Exception {
        List<Charts.Series> series = List.of(
                new Charts.Series("smalloc", new double[] {1, 2, 4}, new double[] {10, 11, 12}),
                new Charts.Series("system", new double[] {1, 2, 4}, new double[] {9, Double.NaN, 20}));
        JFreeChart chart = Charts.line("scaling", "threads", "ns/op", series);
        assertEquals(2, chart.getXYPlot().getDataset().getSeriesCount());
        assertEquals(3, chart.getXYPlot().getDataset().getItemCount(1));
        List<String> texts = texts(parseSvg(Charts.svg(chart, 640, 400)));
        assertTrue(texts.containsAll(List.of("scaling", "threads", "smalloc", "system")), texts.toString());
    }

    @Test
    void twoSvgsOfOneJvmShareNoIds() throws Exception {
        JFreeChart chart = Charts.bars("pairs", "size, threads", "ns/op", nsByAllocatorThenGroup());
        Set<String> first = ids(parseSvg(Charts.svg(chart, 400, 300)));
        Set<String> second = ids(parseSvg(Charts.svg(chart, 400, 300)));
        assertTrue(!first.isEmpty(), "a chart has clip paths with ids");
        Set<String> shared = new HashSet<>(first);
        shared.retainAll(second);
        assertEquals(Set.of(), shared);
    }

    private static Set<String> ids(Document document) {
        Set<String> ids = new HashSet<>();
        NodeList all = document.getElementsByTagNameNS("*", "*");
        for (int i = 0; i < all.getLength(); i++) {
            String id = ((Element) all.item(i)).getAttribute("id");
            if (!id.isEmpty()) {
                ids.add(id);
            }
        }
        return ids;
    }

    @Test
    void writeMakesAnSvgFileByItsExtension() throws Exception {
        Path file = folder.resolve("pairs.SVG");
        Charts.write(Charts.bars("pairs", "size, threads", "ns/op", nsByAllocatorThenGroup()), file, 900, 500);
        String content = Files.readString(file);
        assertTrue(content.startsWith("<?xml"), content.substring(0, 40));
        Element root = parseSvg(content).getDocumentElement();
        assertEquals(900, Double.parseDouble(root.getAttribute("width")));
    }

    @Test
    void writeMakesAPngThatImageIoReads() throws IOException {
        Path file = folder.resolve("pairs.png");
        Charts.write(Charts.bars("pairs", "size, threads", "ns/op", nsByAllocatorThenGroup()), file, 900, 500);
        BufferedImage image = ImageIO.read(file.toFile());
        assertEquals(900, image.getWidth());
        assertEquals(500, image.getHeight());
        assertTrue(countPixels(image, 0x0072B2) > 1000, "the first series' bars are drawn in its colour");
        assertTrue(countPixels(image, 0xE69F00) > 1000, "the second series' bars are drawn in its colour");
    }

    private static long countPixels(BufferedImage image, int rgb) {
        long count = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xFF_FFFF) == rgb) {
                    count++;
                }
            }
        }
        return count;
    }

    @Test
    void badInputIsNamed() {
        JFreeChart chart = Charts.bars("pairs", "size", "ns/op", nsByAllocatorThenGroup());
        IllegalArgumentException extension = assertThrows(IllegalArgumentException.class,
                () -> Charts.write(chart, folder.resolve("pairs.jpg"), 100, 100));
        assertTrue(extension.getMessage().contains("pairs.jpg"), extension.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> Charts.svg(chart, 0, 100));
        assertTrue(size.getMessage().contains("0 x 100"), size.getMessage());
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
                () -> new Charts.Series("smalloc", new double[] {1, 2}, new double[] {1}));
        assertTrue(lengths.getMessage().contains("2 x values but 1 y values"), lengths.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Charts.Series(" ", new double[0], new double[0]));
        assertThrows(IllegalArgumentException.class,
                () -> new Charts.Series("s", new double[] {Double.NaN}, new double[] {1}));
        Map<String, Map<String, Double>> infinite = Map.of("smalloc", Map.of("16 B", Double.POSITIVE_INFINITY));
        IllegalArgumentException value = assertThrows(IllegalArgumentException.class,
                () -> Charts.bars("t", "c", "v", infinite));
        assertTrue(value.getMessage().contains("'smalloc', category '16 B'"), value.getMessage());
        Charts.Series twice = new Charts.Series("smalloc", new double[] {1}, new double[] {1});
        assertThrows(IllegalArgumentException.class, () -> Charts.line("t", "x", "y", List.of(twice, twice)));
    }

    @Test
    void seriesArraysAreCopies() {
        double[] x = {1, 2};
        Charts.Series series = new Charts.Series("s", x, new double[] {3, 4});
        x[0] = 99;
        series.x()[1] = 99;
        assertNotEquals(99, series.x()[0]);
        assertNotEquals(99, series.x()[1]);
    }
}
