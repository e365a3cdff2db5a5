package org.smalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.smalloc4j.tools.report.ReportPage;

/**
 * {@code smalloc4j report} end to end: a trace recorded here is replayed on smalloc and libc, each in a
 * child JVM, and the page it writes is opened in real headless Chromium: no error, the verdict, a row
 * per allocator, the four charts and the heap map taken at the trace's peak. The page, its SVG files
 * and the screenshot stay in {@code target/report/} to look at.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReportCommandTest {

    /** Where the page and the screenshot are kept after the run (Surefire runs in the module's folder). */
    private static final Path OUTPUT = Path.of("target", "report");

    @TempDir
    Path dir;

    private final CommandUnderTest command = new CommandUnderTest();

    private int execute(String... args) {
        return command.execute(args);
    }

    /** bench's mixed workload on 2 threads: sizes from 8 B to 256 KiB, so the heap map has several rows. */
    private Path record() {
        return command.recordMixed(dir);
    }

    private static String attribute(String dom, String name) {
        Matcher matcher = Pattern.compile(" " + Pattern.quote(name) + "=\"([^\"]*)\"").matcher(dom);
        assertTrue(matcher.find(), () -> name + " missing from the DOM");
        return matcher.group(1);
    }

    @Test
    void theReportRendersInABrowserWithoutErrorsAndShowsVerdictTableChartsAndHeapMap() throws IOException {
        HeadlessChromium chromium = HeadlessChromium.require();
        Path trace = record();
        Files.createDirectories(OUTPUT);
        Path page = OUTPUT.resolve("mixed.html");
        assertEquals(0, execute("report", trace.toString(), "--allocators", "smalloc,system", "--warmup", "0",
                "--repeat", "1", "--program", "bench's mixed <workload> & 2 threads", "--output", page.toString()),
                command.output());
        for (String chart : List.of("live", "rss", "time", "waste", "heapmap")) {
            Path svg = OUTPUT.resolve("mixed-" + chart + ".svg");
            assertTrue(Files.size(svg) > 1000, svg + " is written beside the page");
            assertTrue(command.output().contains("wrote " + svg), command.output());
        }
        assertTrue(command.output().contains("--program 'bench'\\''s mixed <workload> & 2 threads' --output"),
                "the command is quoted for a shell: " + command.output());
        String html = Files.readString(page, StandardCharsets.UTF_8);
        assertTrue(!html.contains("http://") || html.replace("http://www.w3.org/", "").replace(
                "http://www.jfree.org/jfreesvg/svg", "").indexOf("http://") < 0, "nothing is fetched from elsewhere");
        assertTrue(!html.contains(" src=") && !html.contains("<link"), "no script, image or style from a file");

        HeadlessChromium.Page loaded = chromium.load(page, OUTPUT.resolve("mixed.png"), 1300, 3400);
        loaded.assertNoErrors();
        String dom = loaded.dom();
        assertTrue(dom.contains("<h1>smalloc4j report: mixed.trace</h1>"), "the heading names the trace");
        assertTrue(dom.contains("<dd>bench's mixed &lt;workload&gt; &amp; 2 threads</dd>"), "the program, escaped");
        Matcher verdict = Pattern.compile("<p class=\"verdict\" id=\"verdict\">([^<]+)</p>").matcher(dom);
        assertTrue(verdict.find(), "the verdict sentence is on the page");
        assertTrue(verdict.group(1).matches("(smalloc|system) replays this trace fastest, \\d+\\.\\d\\d× faster than"
                + " (smalloc|system) .*|system and smalloc replay this trace about equally fast .*"
                + "|smalloc and system replay this trace about equally fast .*"), verdict.group(1));
        assertTrue(verdict.group(1).contains("has the lowest peak RSS growth"), verdict.group(1));
        assertEquals(1, loaded.count("<tr data-allocator=\"smalloc\">"));
        assertEquals(1, loaded.count("<tr data-allocator=\"system\">"));

        for (String chart : List.of("live", "rss", "time", "waste")) {
            Matcher figure = Pattern.compile("<figure data-chart=\"" + chart + "\">\\s*<svg[^>]*>", Pattern.DOTALL)
                    .matcher(dom);
            assertTrue(figure.find(), "chart " + chart + " is an inline <svg>");
        }
        assertEquals(5, loaded.count("<svg"), "four charts and the heap map");

        assertEquals("true", attribute(dom, "data-heapmap-ready"), "the heap map's script ran");
        int cells = Integer.parseInt(attribute(dom, "data-heapmap-cells"));
        assertEquals(cells, loaded.count("<rect class=\"cell"));
        assertTrue(cells > 0 && cells % 64 == 0, "whole rows of the global heap's 64 slabs: " + cells);
        String heapMapSvg = Files.readString(OUTPUT.resolve("mixed-heapmap.svg"), StandardCharsets.UTF_8);
        assertEquals(cells, count(heapMapSvg, "<rect class=\"cell\""), "the SVG file is the same map");
        Matcher inUse = Pattern.compile("([\\d,]+) in use of [\\d,]+ · ").matcher(dom);
        long slotsInUse = 0;
        while (inUse.find()) {
            slotsInUse += Long.parseLong(inUse.group(1).replace(",", ""));
        }
        assertTrue(slotsInUse > 0, "the map was taken while the peak's blocks were live");
    }

    private static int count(String text, String part) {
        int occurrences = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length())) {
            occurrences++;
        }
        return occurrences;
    }

    @Test
    void withoutSmallocThereIsNoHeapMapAndThePageSaysWhy() throws IOException {
        Path trace = record();
        Path page = dir.resolve("no-smalloc.html");
        assertEquals(0, execute("report", trace.toString(), "--allocators", "system", "--warmup", "0", "--repeat", "1",
                "--output", page.toString()), command.output());
        String html = Files.readString(page, StandardCharsets.UTF_8);
        assertTrue(html.contains("No heap map: smalloc was not among the allocators replayed."));
        assertTrue(html.contains("Only system was replayed: median timed pass "), "the verdict of one allocator");
        assertTrue(!Files.exists(dir.resolve("mixed-heapmap.svg")));
        assertTrue(Files.exists(dir.resolve("mixed-rss.svg")));
    }

    @Test
    void badInputIsRejectedWithWhatWasWrong() throws IOException {
        assertEquals(2, execute("report", dir.resolve("missing.trace").toString(), "--output",
                dir.resolve("r.html").toString()));
        assertTrue(command.output().contains("missing.trace is not a readable file"), command.output());
        Path trace = record();
        assertEquals(2, execute("report", trace.toString(), "--output", dir.resolve("r.txt").toString()));
        assertTrue(command.output().contains("r.txt: the report is an HTML page, its name must end in .html"), command.output());
        assertEquals(2, execute("report", trace.toString(), "--allocators", "smalloc,nonesuch"));
        assertTrue(command.output().contains("nonesuch"), command.output());
        assertEquals(2, execute("report", trace.toString(), "--program", " "));
        assertTrue(command.output().contains("--program is blank"), command.output());
        assertEquals(2, execute("report", trace.toString(), "--repeat", "0"));

        byte[] bytes = Files.readAllBytes(trace);
        Path cut = dir.resolve("cut.trace");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 3));
        assertEquals(1, execute("report", cut.toString(), "--output", dir.resolve("cut.html").toString()));
        assertTrue(command.output().contains("smalloc4j report: " + cut + ": the trace is cut short at byte "), command.output());
        assertTrue(!Files.exists(dir.resolve("cut.html")), "no page for a run that failed");
    }

    @Test
    void theTraceNameDropsFolderAndEndings() {
        assertEquals("sqlite", ReportPage.traceName("traces/sqlite.trace.gz"));
        assertEquals("mixed-2t", ReportPage.traceName("/x/mixed-2t.trace"));
        assertEquals("app.bin", ReportPage.traceName("app.bin"));
        assertEquals("my_app", ReportPage.traceName("my app.trace"));
    }
}
