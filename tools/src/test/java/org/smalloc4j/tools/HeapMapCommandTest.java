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

    @TempDir
    Path folder;

    /** What one run of the command gave: its exit code and what it printed, each run on its own. */
    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = Smalloc4j.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    /** Runs the command, expects {@code exitCode}, and returns the run; on a surprise shows what it printed. */
    private static Run expect(int exitCode, String... args) {
        Run run = run(args);
        assertEquals(exitCode, run.exitCode(), () -> "stdout:\n" + run.out() + "\nstderr:\n" + run.err());
        return run;
    }

    @Test
    void writesAnHtmlPageOfTheDemo() throws Exception {
        Path page = folder.resolve("map.html");
        Run run = expect(0, "heapmap", "--output", page.toString(), "--ops", "2000", "--threads", "2");
        String html = Files.readString(page, StandardCharsets.UTF_8);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html.substring(0, 50));
        assertTrue(html.contains("<section class=\"smalloc4j-heapmap\""), "the map's section");
        assertTrue(html.contains("workload demo, 2 threads × 2000 operations, seed 42: snapshot while its blocks are live"),
                "the caption");
        // the default heap: classes 2 (4 B) to 31 (2 GiB), 64 slabs each
        assertEquals(30 * 64, html.split("<rect class=\"cell\"", -1).length - 1);
        assertTrue(run.out().startsWith("heapmap: wrote " + page + " (30 size classes × 64 slabs): "), run.out());
        assertFalse(run.out().contains("holds no block"), run.out());
    }

    @Test
    void writesAnSvgColouredByResidency() throws Exception {
        Path image = folder.resolve("map.SVG");
        expect(0, "heapmap", "-o", image.toString(), "--workload", "mixed", "--colour", "resident",
                "--ops", "1000", "--threads", "1", "--seed", "3");
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
        Run run = expect(0, "heapmap", "-o", page.toString(), "--workload", "pairs", "--ops", "1000", "--threads", "1");
        assertTrue(run.out().contains(": 0 blocks live"), run.out());
        assertTrue(run.out().contains("heapmap: pairs holds no block between its operations"), run.out());
    }

    @Test
    void badOptionsAreRejectedSayingWhatIsWrong() {
        String page = folder.resolve("map.html").toString();
        assertTrue(expect(2, "heapmap", "-o", folder.resolve("map.png").toString()).err()
                .contains("map.png: the name must end in .html (a page) or .svg (an image)"));
        assertTrue(expect(2, "heapmap", "-o", page, "--workload", "larsen").err()
                .contains("unknown workload 'larsen'; known: demo, pairs, mixed, "));
        assertTrue(expect(2, "heapmap", "-o", page, "--workload", "glibc-simple", "--threads", "2").err()
                .contains("--threads 2: workload glibc-simple runs on at most 1 thread"));
        assertTrue(expect(2, "heapmap", "-o", page, "--threads", "0").err().contains("--threads 0 is below 1"));
        assertTrue(expect(2, "heapmap", "-o", page, "--ops", "0").err().contains("--ops 0 is below 1"));
        assertTrue(expect(2, "heapmap", "-o", page, "--colour", "hot").err()
                .contains("--colour hot: expected in-use or resident"));
        assertFalse(Files.exists(folder.resolve("map.html")), "no map for a rejected command line");
    }

    @Test
    void anUnwritableOutputFailsNamingIt() {
        Path page = folder.resolve("no-such-folder").resolve("map.html");
        Run run = expect(1, "heapmap", "-o", page.toString(), "--ops", "100", "--threads", "1");
        assertTrue(run.err().contains("smalloc4j heapmap: cannot write " + page), run.err());
    }

    @Test
    void isASubcommandWithItsOptionsInTheHelp() {
        String help = expect(0, "heapmap", "--help").out();
        for (String option : new String[] {"--output", "--workload", "--threads", "--ops", "--colour", "--seed"}) {
            assertTrue(help.contains(option), option + " missing from\n" + help);
        }
        assertTrue(help.lines().allMatch(line -> line.length() <= 100), "a line wraps in\n" + help);
        assertTrue(expect(0, "--help").out().contains("heapmap"));
    }
}
