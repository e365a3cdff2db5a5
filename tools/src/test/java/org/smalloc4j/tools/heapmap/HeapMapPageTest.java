package org.smalloc4j.tools.heapmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.tools.HeadlessChromium;

/**
 * The heap map in a real browser (headless Chromium): the page loads without an error, its script
 * wires every cell, hovering a cell shows that cell's counts, the buttons switch the colours, and the
 * SVG file renders too. The page and its screenshot stay in {@code target/heapmap/} to look at.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HeapMapPageTest {

    /** Where the page and the screenshots are kept after the run (Surefire runs in the module's folder). */
    private static final Path OUTPUT = Path.of("target", "heapmap");

    /**
     * Runs at the end of the page: hovers over the first touched cell, notes the tooltip, switches to
     * pages resident and back, noting each time whether every cell took the measure's colour, and
     * leaves the tooltip showing for the screenshot. Results go into attributes of {@code <html>}.
     */
    private static final String PROBE = """
            <script>
            (function () {
              var root = document.documentElement;
              var section = document.querySelector('section.smalloc4j-heapmap');
              var cells = Array.prototype.slice.call(section.querySelectorAll('rect.cell'));
              var target = cells.filter(function (cell) { return cell.getAttribute('data-use') !== ''; })[0];
              function hover(cell) {
                var box = cell.getBoundingClientRect();
                cell.dispatchEvent(new MouseEvent('mouseover', {bubbles: true,
                    clientX: box.left + box.width / 2, clientY: box.top + box.height / 2}));
              }
              function colouredBy(measure) {
                section.querySelector('button[data-measure="' + measure + '"]').click();
                var all = cells.every(function (cell) { return cell.getAttribute('fill') === cell.getAttribute('data-fill-' + measure); });
                return all + ' ' + section.getAttribute('data-heapmap-measure') + ' ' + section.querySelector('.legend-label').textContent;
              }
              hover(target);
              var tip = section.querySelector('.heapmap-tip');
              root.setAttribute('data-probe-tip', tip.hidden ? 'hidden' : tip.textContent.split('\\n').join(' | '));
              root.setAttribute('data-probe-res', colouredBy('res'));
              root.setAttribute('data-probe-use', colouredBy('use'));
              hover(target);
            })();
            </script>
            """;

    private HeadlessChromium chromium;
    private static SmallocStats stats;
    private static HeapMap map;

    @BeforeAll
    static void drawAHeap() throws IOException {
        // 16 slabs and slots up to 4 MiB: a map small enough to read in a screenshot
        try (Smalloc heap = Smalloc.builder().name("page-test").slabsPerClass(16).slabBytes(1L << 28)
                .largestSlot(1L << 22).build()) {
            stats = WorkloadSnapshot.take(new DemoWorkload(), heap, 4, 3_000, 42);
        }
        map = HeapMap.of(stats).caption("demo, 4 threads × 3000 operations, seed 42");
        Files.createDirectories(OUTPUT);
    }

    @BeforeEach
    void findChromium() {
        chromium = HeadlessChromium.require(); // each test skipped on its own when it is missing (outside CI)
    }

    private static String attribute(HeadlessChromium.Page page, String name) {
        Matcher matcher = Pattern.compile(" " + Pattern.quote(name) + "=\"([^\"]*)\"").matcher(page.dom());
        assertTrue(matcher.find(), () -> name + " missing from the DOM");
        return matcher.group(1);
    }

    @Test
    void thePageLoadsCleanlyAndItsScriptWiresEveryCell() throws IOException {
        Path html = OUTPUT.resolve("heapmap.html");
        String page = map.htmlPage();
        Files.writeString(html, page, StandardCharsets.UTF_8);
        Path probed = OUTPUT.resolve("heapmap-probed.html");
        Files.writeString(probed, page.replace("</body>", PROBE + "</body>"), StandardCharsets.UTF_8);

        HeadlessChromium.Page loaded = chromium.load(probed, OUTPUT.resolve("heapmap.png"), 1280, 760);
        loaded.assertNoErrors();
        int cells = stats.classes().size() * stats.classes().getFirst().slabs().size();
        assertEquals(21 * 16, cells, "classes 2 to 22, 16 slabs");
        assertEquals("true", attribute(loaded, "data-heapmap-ready"));
        assertEquals(Integer.toString(cells), attribute(loaded, "data-heapmap-cells"));
        assertEquals(cells, loaded.count("<rect class=\"cell"));
        assertEquals(1, loaded.count("<rect class=\"cell heapmap-current\""), "the hovered cell is outlined");
        assertEquals(cells, loaded.count(" data-tip=\""), "every cell's title became its tooltip");

        String tip = attribute(loaded, "data-probe-tip");
        SmallocStats.SizeClass firstClass = stats.classes().stream().filter(c -> c.slotsTouched() > 0).findFirst().orElseThrow();
        SmallocStats.Slab firstSlab = firstClass.slabs().stream().filter(s -> s.slotsTouched() > 0).findFirst().orElseThrow();
        String expected = "class " + firstClass.sizeClass() + " (" + HeapMap.bytes(firstClass.slotSize()) + " slots), slab "
                + firstSlab.slab() + " | in use: " + HeapMap.slots(firstSlab.slotsInUse()) + ", ";
        assertTrue(tip.startsWith(expected), "hovering shows " + tip + ", expected it to start with " + expected);
        assertTrue(tip.contains("never touched: ") && tip.contains("resident: "), tip);

        assertEquals("true res colour: bytes resident ÷ bytes of the pages its touched slots span (per slab)",
                attribute(loaded, "data-probe-res"));
        assertEquals("true use colour: slots in use ÷ slots ever touched (per slab)", attribute(loaded, "data-probe-use"));
    }

    @Test
    void theSvgRendersOnItsOwn() throws IOException {
        Path svg = OUTPUT.resolve("heapmap.svg");
        Files.writeString(svg, map.svg(HeapMap.Measure.RESIDENT), StandardCharsets.UTF_8);
        HeadlessChromium.Page loaded = chromium.load(svg, OUTPUT.resolve("heapmap-svg.png"), 1280, 760);
        assertEquals(java.util.List.of(), loaded.consoleErrors());
        assertEquals(map.cellCount(), loaded.count("<rect class=\"cell\""), "the SVG document's cells, as parsed");
        assertTrue(!loaded.dom().contains("parsererror"), "the SVG did not parse:\n" + loaded.dom());
    }
}
