package org.smalloc4j.tools.bench;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One SVG and one PNG per workload, and the peak RSS chart, all readable and named after what they show. */
class ResultChartsTest {

    @TempDir
    Path folder;

    @Test
    void everyWorkloadGetsAValidSvgAndPng() throws Exception {
        List<Path> written = ResultCharts.write(folder, List.of("smalloc", "system"), ResultFilesTest.sampleRows());
        assertEquals(List.of("pairs.svg", "pairs.png", "mixed.svg", "mixed.png", "peak-rss.svg", "peak-rss.png"),
                written.stream().map(path -> path.getFileName().toString()).toList());
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        for (Path file : written) {
            assertTrue(file.startsWith(folder), file.toString());
            if (file.toString().endsWith(".svg")) {
                Element root = factory.newDocumentBuilder().parse(file.toFile()).getDocumentElement();
                assertEquals("svg", root.getLocalName(), file.toString());
                assertTrue(Double.parseDouble(root.getAttribute("width")) >= 800, file.toString());
                assertEquals(500, Double.parseDouble(root.getAttribute("height")), file.toString());
            } else {
                BufferedImage image = ImageIO.read(file.toFile());
                assertTrue(image.getWidth() >= 800 && image.getWidth() <= 2400, file + " " + image.getWidth());
                assertEquals(500, image.getHeight(), file.toString());
            }
        }
        String pairs = Files.readString(folder.resolve("pairs.svg"));
        assertTrue(pairs.contains(">16, 1 thread<"), "the group label is in the pairs chart");
        assertTrue(pairs.contains(">smalloc<") && pairs.contains(">system<"), "both allocators are in the legend");
        assertTrue(Files.readString(folder.resolve("mixed.svg")).contains(">8-256K, 2 threads<"));
    }

    @Test
    void noPeakRssChartWithoutFigures() throws Exception {
        Workload pairs = new AllocFreePairs(64);
        List<CaseResult> rows = CaseResult.rankGroup(List.of(new Measurement(pairs, "smalloc", 1, new double[] {9})),
                List.of(OptionalLong.empty()));
        List<Path> written = ResultCharts.write(folder, List.of("smalloc"), rows);
        assertEquals(List.of(folder.resolve("pairs.svg"), folder.resolve("pairs.png")), written);
        assertTrue(Files.notExists(folder.resolve("peak-rss.svg")));
    }

    @Test
    void manyBarsMakeAWiderChart() throws Exception {
        Workload pairs = new AllocFreePairs(64);
        List<String> allocators = List.of("a", "b", "c", "d");
        List<CaseResult> rows = new java.util.ArrayList<>();
        for (int threads = 1; threads <= 20; threads++) {
            List<Measurement> group = new java.util.ArrayList<>();
            for (String allocator : allocators) {
                group.add(new Measurement(pairs, allocator, threads, new double[] {threads + allocator.charAt(0)}));
            }
            rows.addAll(CaseResult.rankGroup(group, java.util.Collections.nCopies(4, OptionalLong.empty())));
        }
        ResultCharts.write(folder, allocators, rows);
        BufferedImage image = ImageIO.read(folder.resolve("pairs.png").toFile());
        assertEquals(160 + 80 * 18, image.getWidth()); // 80 bars
    }
}
