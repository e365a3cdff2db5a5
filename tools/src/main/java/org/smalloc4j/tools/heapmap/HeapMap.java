package org.smalloc4j.tools.heapmap;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.smalloc4j.SmallocStats;

/**
 * Draws a {@link SmallocStats} snapshot as a heat map: one row per size class (smallest at the top),
 * one column per slab, one cell per (class, slab). A cell's colour is a fraction on
 * {@linkplain ColourScale the viridis scale}, by one of two {@linkplain Measure measures}: the share
 * of the slab's touched slots that are in use (1 = no freed holes), or the share of the pages its
 * touched slots span that are resident (below 1 where freed large slots gave their pages back, or
 * blocks never wrote their tail). A slab that never handed out a slot of the class is grey.
 *
 * <p>Three forms, all self-contained (no file, font or script from elsewhere):
 * <ul>
 * <li>{@link #svg(Measure)}: an SVG document; each cell carries a {@code <title>} with its counts,
 *     which browsers show on hover;</li>
 * <li>{@link #htmlSection()}: an HTML {@code <section class="smalloc4j-heapmap">} with the SVG inline,
 *     buttons that switch the measure, and a tooltip that follows the pointer; its script is inside
 *     it, so a larger page (the {@code report} command's) can embed it, once or several times, with
 *     {@link #STYLE} in its head;</li>
 * <li>{@link #htmlPage()}: a whole page around that section, with {@link PageErrorHook} and
 *     {@link #STYLE} in its head.</li>
 * </ul>
 * When its script has run, the section has {@code data-heapmap-ready="true"} and
 * {@code data-heapmap-cells} = the number of cells it wired.
 */
public final class HeapMap {

    /** What a cell's colour shows. */
    public enum Measure {
        /** Slots in use ÷ slots ever touched, per slab. */
        IN_USE("use", "colour: slots in use ÷ slots ever touched (per slab)"),
        /** Bytes resident ÷ bytes of the whole pages that the slab's touched slots span. */
        RESIDENT("res", "colour: bytes resident ÷ bytes of the pages its touched slots span (per slab)");

        private final String key;
        private final String legend;

        Measure(String key, String legend) {
            this.key = key;
            this.legend = legend;
        }
    }

    // chosen geometry, in SVG user units (pixels)
    private static final int CELL = 12;
    private static final int GAP = 2;
    /** Room for the row labels ("512 MiB") left of the grid. */
    private static final int LEFT = 62;
    /** Heading, caption and the slab numbers above the grid. */
    private static final int TOP = 58;
    /** Room for a row's summary right of the grid. */
    private static final int SUMMARY_WIDTH = 250;
    private static final int LEGEND_HEIGHT = 56;
    private static final int LEGEND_BAR_WIDTH = 200;
    /** A generous width of one character at the 11-pixel font, to size the canvas around text. */
    private static final double CHAR_WIDTH = 6.6;
    /** The same for the heading's 14-pixel bold font. */
    private static final double HEADING_CHAR_WIDTH = 9.2;
    /** White space around the drawing. */
    private static final int MARGIN = 12;
    // derived
    private static final int PITCH = CELL + GAP; // 14

    private final SmallocStats stats;
    private final String caption;
    private final List<Row> rows;
    private final int slabs;

    /** One cell: a slab of a class, with its two fractions (NaN where there is nothing to divide). */
    private record Cell(SmallocStats.Slab slab, long spanned, double inUse, double resident) {
        double fraction(Measure measure) {
            return measure == Measure.IN_USE ? inUse : resident;
        }
    }

    private record Row(SmallocStats.SizeClass sizeClass, List<Cell> cells) {
    }

    private HeapMap(SmallocStats stats, String caption) {
        this.stats = stats;
        this.caption = caption;
        this.rows = rows(stats);
        this.slabs = rows.getFirst().cells().size();
    }

    /**
     * A heap map of {@code stats}.
     *
     * @throws IllegalArgumentException if the snapshot has no size class, its classes differ in their
     *         number of slabs, a class's slabs are not listed by number from 0, or a slab's counts
     *         contradict each other (in use above touched, touched above the slab's slots, a negative count)
     */
    public static HeapMap of(SmallocStats stats) {
        return new HeapMap(Objects.requireNonNull(stats, "stats"), "");
    }

    /** The same map with a line under its heading that says what the snapshot is, e.g. "peak of trace x". */
    public HeapMap caption(String caption) {
        return new HeapMap(stats, Objects.requireNonNull(caption, "caption"));
    }

    /** Cells in the grid: size classes × slabs per class. */
    public int cellCount() {
        return rows.size() * slabs;
    }

    private static List<Row> rows(SmallocStats stats) {
        if (stats.classes().isEmpty()) {
            throw new IllegalArgumentException("heap '" + stats.heapName() + "': the snapshot has no size class to draw");
        }
        int slabs = stats.classes().getFirst().slabs().size();
        List<Row> rows = new ArrayList<>();
        for (SmallocStats.SizeClass sizeClass : stats.classes()) {
            if (sizeClass.slabs().size() != slabs || slabs == 0) {
                throw new IllegalArgumentException("heap '" + stats.heapName() + "': class " + sizeClass.sizeClass()
                        + " has " + sizeClass.slabs().size() + " slabs, class " + stats.classes().getFirst().sizeClass()
                        + " has " + slabs + ": a heap map needs the same number (at least 1) in every class");
            }
            List<Cell> cells = new ArrayList<>(slabs);
            for (SmallocStats.Slab slab : sizeClass.slabs()) {
                checkCounts(stats, sizeClass, slab, cells.size());
                long spanned = stats.bytesSpanned(sizeClass, slab);
                double inUse = slab.slotsTouched() == 0 ? Double.NaN : (double) slab.slotsInUse() / slab.slotsTouched();
                // a slab smaller than a page shares its page with others, and can count more than it spans
                double resident = spanned == 0 ? Double.NaN : Math.min(1, (double) slab.bytesResident() / spanned);
                cells.add(new Cell(slab, spanned, inUse, resident));
            }
            rows.add(new Row(sizeClass, cells));
        }
        return rows;
    }

    private static void checkCounts(SmallocStats stats, SmallocStats.SizeClass sizeClass, SmallocStats.Slab slab,
                                    int position) {
        String problem = null;
        if (slab.slab() != position) {
            problem = "the number of the slab at position " + position + " (slabs are listed 0 first, in order)";
        } else if (slab.slotsInUse() < 0 || slab.slotsTouched() < 0 || slab.bytesResident() < 0) {
            problem = "a negative count";
        } else if (slab.slotsInUse() > slab.slotsTouched()) {
            problem = "more slots in use than touched";
        } else if (slab.slotsTouched() > sizeClass.slotsPerSlab()) {
            problem = "more slots touched than the " + sizeClass.slotsPerSlab() + " it holds";
        }
        if (problem != null) {
            throw new IllegalArgumentException("heap '" + stats.heapName() + "': class " + sizeClass.sizeClass()
                    + " slab " + slab.slab() + " has " + problem + " (" + slab + ")");
        }
    }

    // ------------------------------------------------------------------ SVG

    /** A standalone SVG document, coloured by {@code measure}. */
    public String svg(Measure measure) {
        Objects.requireNonNull(measure, "measure");
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svgElement(measure);
    }

    /** The {@code <svg>} element, coloured by {@code measure}: for a document of its own, or inline in HTML. */
    private String svgElement(Measure measure) {
        int gridWidth = slabs * PITCH - GAP;
        int gridBottom = TOP + rows.size() * PITCH - GAP;
        String heading = heading();
        double textWidth = Math.max(heading.length() * HEADING_CHAR_WIDTH,
                Math.max(caption.length() * CHAR_WIDTH, LEFT + longestLegend() * CHAR_WIDTH));
        int width = (int) Math.ceil(Math.max(LEFT + gridWidth + 10 + SUMMARY_WIDTH, textWidth));
        width += 2 * MARGIN;
        int height = gridBottom + LEGEND_HEIGHT + 2 * MARGIN;

        StringBuilder svg = new StringBuilder(64 * 1024);
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heapmap-svg\""
                + " width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, sans-serif\""
                + " font-size=\"11\" role=\"img\" aria-label=\"%s\">%n", width, height, width, height, Xml.escape(heading)));
        svg.append("<title>").append(Xml.escape(heading)).append("</title>\n");
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        svg.append("<g transform=\"translate(" + MARGIN + "," + MARGIN + ")\">\n");
        text(svg, 0, 15, "start", "font-size=\"14\" font-weight=\"bold\"", heading);
        if (!caption.isEmpty()) {
            text(svg, 0, 32, "start", "fill=\"#444444\"", caption);
        }
        slabNumbers(svg);
        for (int r = 0; r < rows.size(); r++) {
            row(svg, rows.get(r), TOP + r * PITCH, measure);
        }
        legend(svg, gridBottom + 18, measure);
        svg.append("</g>\n</svg>\n");
        return svg.toString();
    }

    private String heading() {
        return String.format(Locale.ROOT, "heap '%s': %d size classes × %d slabs; %s in use in %d slots, %s resident",
                stats.heapName(), rows.size(), slabs, bytes(stats.bytesInUse()), stats.slotsInUse(),
                bytes(stats.bytesResident()));
    }

    private static int longestLegend() {
        int longest = 0;
        for (Measure measure : Measure.values()) {
            longest = Math.max(longest, measure.legend.length());
        }
        return longest;
    }

    /** Slab numbers above the grid: every one for a few slabs, every fourth or eighth for more. */
    private void slabNumbers(StringBuilder svg) {
        int every = slabs <= 10 ? 1 : slabs <= 32 ? 4 : 8; // two digits do not fit above one cell
        int y = TOP - 6;
        text(svg, LEFT - 8, y, "end", "fill=\"#444444\"", "slab");
        for (int slab = 0; slab < slabs; slab += every) {
            text(svg, LEFT + slab * PITCH + CELL / 2, y, "middle", "fill=\"#444444\"", Integer.toString(slab));
        }
    }

    private void row(StringBuilder svg, Row row, int y, Measure measure) {
        SmallocStats.SizeClass sizeClass = row.sizeClass();
        text(svg, LEFT - 8, y + CELL - 2, "end", "", bytes(sizeClass.slotSize()));
        svg.append("<g class=\"row\" data-class=\"").append(sizeClass.sizeClass()).append("\">\n");
        for (Cell cell : row.cells()) {
            SmallocStats.Slab slab = cell.slab();
            svg.append(String.format(Locale.ROOT, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\""
                            + " fill=\"%s\" data-slab=\"%d\" data-use=\"%s\" data-res=\"%s\" data-fill-use=\"%s\""
                            + " data-fill-res=\"%s\"><title>%s</title></rect>%n",
                    LEFT + slab.slab() * PITCH, y, CELL, CELL, ColourScale.colour(cell.fraction(measure)), slab.slab(),
                    fraction(cell.inUse()), fraction(cell.resident()), ColourScale.colour(cell.inUse()),
                    ColourScale.colour(cell.resident()), Xml.escape(describe(sizeClass, cell))));
        }
        svg.append("</g>\n");
        String summary = sizeClass.slotsTouched() == 0 ? "never touched"
                : String.format(Locale.ROOT, "%,d in use of %,d · %s resident", sizeClass.slotsInUse(),
                        sizeClass.slotsTouched(), bytes(sizeClass.bytesResident()));
        text(svg, LEFT + slabs * PITCH + 8, y + CELL - 2, "start", "fill=\"#444444\"", summary);
    }

    /** The cell's counts, one fact a line: the tooltip. */
    private static String describe(SmallocStats.SizeClass sizeClass, Cell cell) {
        SmallocStats.Slab slab = cell.slab();
        if (slab.slotsTouched() == 0) { // most cells of a large heap: one short line keeps the page small
            return String.format(Locale.ROOT, "class %d (%s slots), slab %d%nnever touched: all %s",
                    sizeClass.sizeClass(), bytes(sizeClass.slotSize()), slab.slab(), slots(sizeClass.slotsPerSlab()));
        }
        long free = slab.slotsTouched() - slab.slotsInUse();
        long neverTouched = sizeClass.slotsPerSlab() - slab.slotsTouched();
        String resident = String.format(Locale.ROOT, "resident: %s of the %s its touched slots span (%s)",
                bytes(slab.bytesResident()), bytes(cell.spanned()), percent(cell.resident()));
        return String.format(Locale.ROOT, "class %d (%s slots), slab %d%n"
                        + "in use: %s, %s%n"
                        + "free: %s (touched, not in use)%n"
                        + "never touched: %,d of %s%n"
                        + "%s",
                sizeClass.sizeClass(), bytes(sizeClass.slotSize()), slab.slab(),
                slots(slab.slotsInUse()), bytes(slab.slotsInUse() * sizeClass.slotSize()),
                slots(free), neverTouched, slots(sizeClass.slotsPerSlab()), resident);
    }

    private static void legend(StringBuilder svg, int y, Measure shown) {
        svg.append("<defs><linearGradient id=\"heapmap-scale\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">");
        for (int i = 0; i < ColourScale.STOPS.size(); i++) {
            svg.append(String.format(Locale.ROOT, "<stop offset=\"%.3f\" stop-color=\"%s\"/>",
                    (double) i / (ColourScale.STOPS.size() - 1), ColourScale.STOPS.get(i)));
        }
        svg.append("</linearGradient></defs>\n");
        svg.append("<g class=\"legend\">\n");
        StringBuilder labels = new StringBuilder();
        for (Measure measure : Measure.values()) {
            labels.append(" data-label-").append(measure.key).append("=\"").append(Xml.escape(measure.legend)).append('"');
        }
        text(svg, LEFT, y, "start", "class=\"legend-label\"" + labels, shown.legend);
        int barY = y + 8;
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"10\" fill=\"url(#heapmap-scale)\"/>%n",
                LEFT, barY, LEGEND_BAR_WIDTH));
        for (int percent = 0; percent <= 100; percent += 25) {
            int x = LEFT + LEGEND_BAR_WIDTH * percent / 100;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444444\"/>%n",
                    x, barY + 10, x, barY + 13));
            text(svg, x, barY + 24, "middle", "fill=\"#444444\"", percent + "%");
        }
        int swatchX = LEFT + LEGEND_BAR_WIDTH + 30;
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n",
                swatchX, barY - 1, CELL, CELL, ColourScale.UNTOUCHED));
        text(svg, swatchX + CELL + 6, barY + 9, "start", "fill=\"#444444\"", "no slot of the class touched in the slab");
        svg.append("</g>\n");
    }

    private static void text(StringBuilder svg, int x, int y, String anchor, String attributes, String content) {
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\"%s>%s</text>%n",
                x, y, anchor, attributes.isEmpty() ? "" : " " + attributes, Xml.escape(content)));
    }

    // ------------------------------------------------------------------ HTML

    /** The style of {@link #htmlSection()}, a {@code <style>} element for the head of the page that holds it. */
    public static final String STYLE = """
            <style>
            .smalloc4j-heapmap { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 13px; color: #222; }
            .smalloc4j-heapmap .heapmap-controls { margin: 0 0 8px 0; }
            .smalloc4j-heapmap .heapmap-controls button { font: inherit; padding: 2px 10px; margin-left: 4px;
              border: 1px solid #888; background: #f4f4f4; border-radius: 3px; cursor: pointer; }
            .smalloc4j-heapmap .heapmap-controls button[aria-pressed="true"] { background: #2c728e; color: #fff; border-color: #2c728e; }
            .smalloc4j-heapmap .heapmap-figure { overflow-x: auto; }
            .smalloc4j-heapmap rect.cell:hover, .smalloc4j-heapmap rect.cell.heapmap-current { stroke: #000; stroke-width: 2; }
            .smalloc4j-heapmap .heapmap-tip { position: fixed; z-index: 10; pointer-events: none; white-space: pre-line;
              background: #fffff0; border: 1px solid #888; border-radius: 3px; padding: 4px 8px; font-size: 12px;
              box-shadow: 1px 1px 4px rgba(0, 0, 0, 0.25); }
            </style>
            """;

    private static final String SECTION_SCRIPT = """
            <script>
            (function () {
              'use strict';
              document.querySelectorAll('section.smalloc4j-heapmap:not([data-heapmap-ready="true"])').forEach(function (section) {
                var cells = section.querySelectorAll('rect.cell');
                var tip = section.querySelector('.heapmap-tip');
                cells.forEach(function (cell) {
                  var title = cell.querySelector('title');
                  if (title) { // the tooltip below replaces the browser's own
                    cell.setAttribute('data-tip', title.textContent);
                    title.remove();
                  }
                });
                var current = null;
                function mark(cell) { // the cell the tooltip describes, outlined
                  if (current) { current.classList.remove('heapmap-current'); }
                  current = cell;
                  if (cell) { cell.classList.add('heapmap-current'); }
                }
                function show(event) {
                  var cell = event.target.closest ? event.target.closest('rect.cell') : null;
                  mark(cell);
                  if (!cell) {
                    tip.hidden = true;
                    return;
                  }
                  tip.textContent = cell.getAttribute('data-tip');
                  tip.hidden = false;
                  var x = event.clientX + 14, y = event.clientY + 14;
                  if (x + tip.offsetWidth > window.innerWidth) { x = Math.max(0, event.clientX - tip.offsetWidth - 14); }
                  if (y + tip.offsetHeight > window.innerHeight) { y = Math.max(0, event.clientY - tip.offsetHeight - 14); }
                  tip.style.left = x + 'px';
                  tip.style.top = y + 'px';
                }
                section.addEventListener('mouseover', show);
                section.addEventListener('mousemove', show);
                section.addEventListener('mouseleave', function () {
                  tip.hidden = true;
                  mark(null);
                });
                function colourBy(measure) {
                  cells.forEach(function (cell) { cell.setAttribute('fill', cell.getAttribute('data-fill-' + measure)); });
                  section.querySelectorAll('[data-label-' + measure + ']').forEach(function (label) {
                    label.textContent = label.getAttribute('data-label-' + measure);
                  });
                  section.querySelectorAll('button[data-measure]').forEach(function (button) {
                    button.setAttribute('aria-pressed', String(button.getAttribute('data-measure') === measure));
                  });
                  section.setAttribute('data-heapmap-measure', measure);
                }
                section.querySelectorAll('button[data-measure]').forEach(function (button) {
                  button.addEventListener('click', function () { colourBy(button.getAttribute('data-measure')); });
                });
                section.setAttribute('data-heapmap-cells', String(cells.length));
                section.setAttribute('data-heapmap-ready', 'true');
              });
            })();
            </script>
            """;

    /**
     * The heap map as an HTML {@code <section>} with its script inside, coloured by
     * {@link Measure#IN_USE} at first; buttons switch the measure. For embedding in a page that has
     * {@link #STYLE} in its head.
     */
    public String htmlSection() {
        StringBuilder html = new StringBuilder(96 * 1024);
        html.append("<section class=\"smalloc4j-heapmap\" data-heapmap-ready=\"false\" data-heapmap-measure=\"")
                .append(Measure.IN_USE.key).append("\">\n");
        html.append("<div class=\"heapmap-controls\" role=\"group\">colour by");
        html.append("<button type=\"button\" data-measure=\"").append(Measure.IN_USE.key)
                .append("\" aria-pressed=\"true\">slots in use</button>");
        html.append("<button type=\"button\" data-measure=\"").append(Measure.RESIDENT.key)
                .append("\" aria-pressed=\"false\">pages resident</button></div>\n");
        html.append("<div class=\"heapmap-figure\">\n").append(svgElement(Measure.IN_USE)).append("</div>\n");
        html.append("<div class=\"heapmap-tip\" hidden></div>\n");
        html.append(SECTION_SCRIPT);
        html.append("</section>\n");
        return html.toString();
    }

    /** A whole HTML page: a heading, the {@linkplain #htmlSection() section}, and what the colours mean. */
    public String htmlPage() {
        String title = "smalloc4j heap map: heap '" + stats.heapName() + "'";
        return """
                <!DOCTYPE html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>%s</title>
                %s%s<style>
                body { margin: 16px 20px; font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 13px; color: #222; }
                h1 { font-size: 18px; margin: 0 0 12px 0; }
                p.heapmap-notes { max-width: 70em; color: #444; line-height: 1.45; }
                </style>
                </head>
                <body>
                <h1>smalloc4j heap map</h1>
                %s<p class="heapmap-notes">Rows are size classes (slot size at the left), columns are slabs; each
                row ends with its class's slots in use, slots ever touched and bytes resident. <b>Slots in use</b>
                colours a slab by the share of its touched slots that are handed out now: dark cells hold freed
                slots (touched, free). <b>Pages resident</b> colours it by the share of the pages spanned by its
                touched slots that are in physical memory: below 100%% where freed large slots gave their pages
                back or blocks never wrote all their slot. Grey: the slab never handed out a slot of that class.
                Hover over a cell for its counts.</p>
                </body>
                </html>
                """.formatted(Xml.escape(title), PageErrorHook.SCRIPT, STYLE, htmlSection());
    }

    // ------------------------------------------------------------------ numbers

    /** {@code 512 B}, {@code 4 KiB}, {@code 1.5 MiB}: binary units, one decimal where it is not 0. */
    public static String bytes(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int unit = 0;
        double value = bytes;
        while (Math.abs(value) >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        String number = String.format(Locale.ROOT, "%.1f", value);
        return (number.endsWith(".0") ? number.substring(0, number.length() - 2) : number) + " " + units[unit];
    }

    /** {@code 1 slot}, {@code 12,345 slots}. */
    static String slots(long count) {
        return String.format(Locale.ROOT, "%,d slot%s", count, count == 1 ? "" : "s");
    }

    private static String fraction(double fraction) {
        return Double.isNaN(fraction) ? "" : String.format(Locale.ROOT, "%.4f", fraction);
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.0f%%", fraction * 100);
    }
}
