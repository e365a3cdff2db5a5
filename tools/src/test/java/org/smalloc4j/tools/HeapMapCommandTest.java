package org.smalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

import picocli.CommandLine;

/** {@code smalloc4j heapmap}: a page, an SVG, a workload that holds nothing, and every bad option. */
class HeapMapCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path folder;

    private int execute(String... args) {
        CommandLine commandLine = Smalloc4j.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    @Test
    void writesAnHtmlPageOfTheDemo() throws Exception {
        Path page = folder.resolve("map.html");
        assertEquals(0, execute("heapmap", "--output", page.toString(), "--ops", "2000", "--threads", "2"), err::toString);
        String html = Files.readString(page, StandardCharsets.UTF_8);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html.substring(0, 50));
        assertTrue(html.contains("<section class=\"smalloc4j-heapmap\""), "the map's section");
        assertTrue(html.contains("workload demo, 2 threads × 2000 operations, seed 42: snapshot while its blocks are live"),
                "the caption");
        // the default heap: classes 2 (4 B) to 31 (2 GiB), 64 slabs each
        assertEquals(30 * 64, html.split("<rect class=\"cell\"", -1).length - 1);
        assertTrue(out.toString().startsWith("heapmap: wrote " + page + " (30 size classes × 64 slabs): "), out::toString);
        assertFalse(out.toString().contains("holds no block"), out::toString);
    }

    @Test
    void writesAnSvgColouredByResidency() throws Exception {
        Path image = folder.resolve("map.SVG");
        assertEquals(0, execute("heapmap", "-o", image.toString(), "--workload", "mixed", "--colour", "resident",
                "--ops", "1000", "--threads", "1", "--seed", "3"), err::toString);
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document svg = factory.newDocumentBuilder().parse(new ByteArrayInputStream(Files.readAllBytes(image)));
        assertEquals("svg", svg.getDocumentElement().getLocalName());
        String text = svg.getDocumentElement().getTextContent();
        assertTrue(text.contains("colour: bytes resident ÷ bytes of the pages its touched slots span"), "the legend");
        assertTrue(text.contains("workload mixed, 1 thread × 1000 operations, seed 3"), "the caption");
    }

    @Test
    void aWorkloadThatHoldsNoBlockIsSaidToHoldNone() {
        Path page = folder.resolve("pairs.html");
        assertEquals(0, execute("heapmap", "-o", page.toString(), "--workload", "pairs", "--ops", "1000", "--threads", "1"),
                err::toString);
        assertTrue(out.toString().contains(": 0 blocks live"), out::toString);
        assertTrue(out.toString().contains("heapmap: pairs holds no block between its operations"), out::toString);
    }

    @Test
    void badOptionsAreRejectedSayingWhatIsWrong() {
        String page = folder.resolve("map.html").toString();
        assertEquals(2, execute("heapmap", "-o", folder.resolve("map.png").toString()));
        assertTrue(err.toString().contains("map.png: the name must end in .html (a page) or .svg (an image)"), err::toString);
        assertEquals(2, execute("heapmap", "-o", page, "--workload", "larsen"));
        assertTrue(err.toString().contains("unknown workload 'larsen'; known: demo, pairs, mixed, "), err::toString);
        assertEquals(2, execute("heapmap", "-o", page, "--workload", "glibc-simple", "--threads", "2"));
        assertTrue(err.toString().contains("--threads 2: workload glibc-simple runs on at most 1 thread"), err::toString);
        assertEquals(2, execute("heapmap", "-o", page, "--threads", "0"));
        assertTrue(err.toString().contains("--threads 0 is below 1"), err::toString);
        assertEquals(2, execute("heapmap", "-o", page, "--ops", "0"));
        assertTrue(err.toString().contains("--ops 0 is below 1"), err::toString);
        assertEquals(2, execute("heapmap", "-o", page, "--colour", "hot"));
        assertTrue(err.toString().contains("--colour hot: expected in-use or resident"), err::toString);
        assertFalse(Files.exists(folder.resolve("map.html")), "no map for a rejected command line");
    }

    @Test
    void anUnwritableOutputFailsNamingIt() {
        Path page = folder.resolve("no-such-folder").resolve("map.html");
        assertEquals(1, execute("heapmap", "-o", page.toString(), "--ops", "100", "--threads", "1"));
        assertTrue(err.toString().contains("smalloc4j heapmap: cannot write " + page), err::toString);
    }

    @Test
    void isASubcommandWithItsOptionsInTheHelp() {
        assertEquals(0, execute("heapmap", "--help"));
        for (String option : new String[] {"--output", "--workload", "--threads", "--ops", "--colour", "--seed"}) {
            assertTrue(out.toString().contains(option), option + " missing from\n" + out);
        }
        assertTrue(out.toString().lines().allMatch(line -> line.length() <= 100), "a line wraps in\n" + out);
        assertEquals(0, execute("--help"));
        assertTrue(out.toString().contains("heapmap"), out::toString);
    }
}
