package org.smalloc4j.tools.report;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.smalloc4j.tools.heapmap.HeapMap;
import org.smalloc4j.tools.heapmap.PageErrorHook;
import org.smalloc4j.tools.heapmap.Xml;
import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.ReplayOutput;
import org.smalloc4j.tools.replay.ReplayReport;
import org.smalloc4j.tools.replay.ReplaySettings;
import org.smalloc4j.tools.replay.TraceSummary;

/**
 * The HTML page of {@code smalloc4j report}: one self-contained file (inline CSS, SVG and scripts; no
 * file, font or script from elsewhere). From the top: the trace (program, operations, threads, peak),
 * the {@link Verdict} sentence, a table with a row per allocator, the {@link ReportCharts}, Smalloc's
 * {@link HeapMap} at the trace's peak, and how the run was made (command, settings, machine and its
 * load). {@link PageErrorHook} is first in its head, so that a test in a browser sees any error.
 *
 * <p>Elements a test can find: {@code <p id="verdict">}, {@code <table id="allocators">} with a
 * {@code <tr data-allocator="name">} per allocator, {@code <figure data-chart="live|rss|time|waste">}
 * each holding one {@code <svg>}, and the heap map's {@code <section class="smalloc4j-heapmap">}.
 */
public final class ReportPage {

    private static final String STYLE = """
            <style>
            body { margin: 16px 24px 40px 24px; font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 14px;
              color: #222; line-height: 1.4; }
            h1 { font-size: 22px; margin: 0 0 6px 0; }
            h2 { font-size: 17px; margin: 28px 0 8px 0; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
            dl.trace { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 8px 0 14px 0; }
            dl.trace dt { color: #555; }
            dl.trace dd { margin: 0; }
            p.verdict { font-size: 17px; max-width: 62em; background: #eef5fa; border-left: 4px solid #0072b2;
              padding: 8px 12px; margin: 12px 0 4px 0; }
            p.note, figcaption, p.definition { color: #555; max-width: 70em; font-size: 13px; }
            p.busy { color: #8a4b00; background: #fff6e5; border-left: 4px solid #e69f00; padding: 4px 10px; max-width: 68em; }
            table#allocators { border-collapse: collapse; margin: 6px 0; }
            table#allocators th, table#allocators td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; }
            table#allocators th { text-align: right; font-weight: bold; background: #f6f6f6; vertical-align: bottom; }
            table#allocators td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            table#allocators th:first-child, table#allocators td:first-child { text-align: left; }
            table#allocators td.best { font-weight: bold; color: #005a8c; }
            figure { margin: 14px 0 22px 0; }
            figure svg { max-width: 100%; height: auto; }
            code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; font-size: 13px; }
            </style>
            """;

    private ReportPage() {
    }

    /**
     * The page.
     *
     * @param report what the replays measured
     * @param figures the charts, from {@link ReportCharts#of}
     * @param heapMap Smalloc's heap at the trace's peak; empty when Smalloc was not replayed
     * @param notes the program, the machine and its load
     * @param files the SVG files written beside the page, by name, for the notes at the end
     */
    public static String html(ReplayReport report, List<ReportCharts.Figure> figures, Optional<HeapMap> heapMap,
            RunNotes notes, List<String> files) {
        TraceSummary trace = report.trace();
        String traceName = fileName(trace.file());
        StringBuilder html = new StringBuilder(512 * 1024);
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(Xml.escape("smalloc4j report: " + traceName)).append("</title>\n")
                .append(PageErrorHook.SCRIPT).append(HeapMap.STYLE).append(STYLE).append("</head>\n<body>\n");
        header(html, report, notes, traceName);
        html.append("<p class=\"verdict\" id=\"verdict\">").append(Xml.escape(Verdict.sentence(report.allocators())))
                .append("</p>\n");
        html.append("<p class=\"definition\">").append(Xml.escape(Verdict.DEFINITION)).append("</p>\n");
        if (notes.busy()) {
            html.append("<p class=\"busy\">").append(Xml.escape(String.format(Locale.ROOT, "The machine was busy: load"
                    + " average %s (1, 5, 15 minutes) on %d processors when the run began. Timings from a busy"
                    + " machine are noisy; re-run the command below on a quiet machine before quoting them.",
                    notes.loadAtStart().orElseThrow(), notes.cpus()))).append("</p>\n");
        }
        table(html, report.allocators());
        html.append("<h2>Over the trace</h2>\n");
        for (ReportCharts.Figure figure : figures) {
            html.append("<figure data-chart=\"").append(figure.name()).append("\">\n").append(figure.svg())
                    .append("\n<figcaption>").append(Xml.escape(figure.caption())).append("</figcaption>\n</figure>\n");
        }
        html.append("<h2>Smalloc's heap at the peak</h2>\n");
        if (heapMap.isPresent()) {
            html.append("<p class=\"note\">").append(Xml.escape(String.format(Locale.ROOT, "Taken in smalloc's child"
                    + " JVM right after operation %,d of %,d, when live bytes first reach the trace's peak (%s): each"
                    + " cell is a slab of a size class. Hover over a cell for its counts.", trace.peakLiveOp(),
                    trace.operations(), ReplayOutput.mib(trace.peakLiveBytes())))).append("</p>\n");
            html.append(heapMap.get().htmlSection());
        } else {
            html.append("<p class=\"note\">No heap map: smalloc was not among the allocators replayed.</p>\n");
        }
        howItRan(html, report, notes, files);
        html.append("</body>\n</html>\n");
        return html.toString();
    }

    private static void header(StringBuilder html, ReplayReport report, RunNotes notes, String traceName) {
        TraceSummary trace = report.trace();
        html.append("<header>\n<h1>").append(Xml.escape("smalloc4j report: " + traceName)).append("</h1>\n");
        html.append("<dl class=\"trace\">\n");
        notes.program().ifPresent(program -> item(html, "program", program));
        item(html, "trace", trace.file() + " (recorded on " + trace.tracedAllocator()
                + (trace.complete() ? ")" : "; CUT SHORT: replayed up to the cut)"));
        item(html, "records", String.format(Locale.ROOT, "%,d operations (alloc, allocZeroed, realloc, free) on %,d"
                + " blocks%s", trace.operations(), trace.blocks(), trace.failedRecords() == 0 ? ""
                : String.format(Locale.ROOT, "; %,d failed requests, not replayed", trace.failedRecords())));
        item(html, "threads", String.format(Locale.ROOT, "%d recorded; replayed %s", trace.threads(),
                report.settings().threadsAsRecorded() ? "on one thread per recorded thread, taking turns in trace order"
                        : "on one thread, in trace order"));
        item(html, "peak live", String.format(Locale.ROOT, "%s (%,d bytes) after operation %,d; %s at the end",
                ReplayOutput.mib(trace.peakLiveBytes()), trace.peakLiveBytes(), trace.peakLiveOp(),
                trace.endLiveBytes() == 0 ? "nothing live" : ReplayOutput.mib(trace.endLiveBytes()) + " live"));
        item(html, "run", String.format(Locale.ROOT, "%s UTC on %d processors, load average %s at the start and %s"
                        + " at the end (1, 5, 15 minutes)",
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC).format(notes.started()),
                notes.cpus(), notes.loadAtStart().orElse("unknown"), notes.loadAtEnd().orElse("unknown")));
        html.append("</dl>\n</header>\n");
    }

    private static void item(StringBuilder html, String term, String description) {
        html.append("<dt>").append(Xml.escape(term)).append("</dt><dd>").append(Xml.escape(description))
                .append("</dd>\n");
    }

    private static void table(StringBuilder html, List<AllocatorReplay> replays) {
        long fastest = replays.stream().mapToLong(AllocatorReplay::medianNanos).min().orElse(0);
        long leanest = replays.stream().mapToLong(AllocatorReplay::peakRssGrowthBytes).filter(bytes -> bytes >= 0)
                .min().orElse(-1);
        html.append("<h2>Allocators</h2>\n<table id=\"allocators\">\n<thead><tr>");
        for (String heading : List.of("allocator", "time (median)", "ns/op", "× fastest", "peak live",
                "peak RSS growth", "RSS growth at end", "fragmentation at peak", "fragmentation at end",
                "internal waste")) {
            html.append("<th>").append(Xml.escape(heading)).append("</th>");
        }
        html.append("</tr></thead>\n<tbody>\n");
        for (AllocatorReplay replay : replays) {
            html.append("<tr data-allocator=\"").append(Xml.escape(replay.allocator())).append("\">");
            cell(html, replay.allocator(), false);
            cell(html, String.format(Locale.ROOT, "%.1f ms", replay.medianNanos() / 1e6),
                    replay.medianNanos() == fastest);
            cell(html, String.format(Locale.ROOT, "%.1f", replay.nsPerOp()), false);
            cell(html, String.format(Locale.ROOT, "%.2f", (double) replay.medianNanos() / Math.max(1, fastest)), false);
            cell(html, ReplayOutput.mib(replay.peakLiveBytes()), false);
            cell(html, growth(replay.peakRssGrowthBytes()), replay.peakRssGrowthBytes() == leanest && leanest >= 0);
            cell(html, growth(replay.rssGrowthAtEndBytes()), false);
            cell(html, ratio(replay.fragmentationAtPeak()), false);
            cell(html, ratio(replay.fragmentationAtEnd()), false);
            cell(html, waste(replay), false);
            html.append("</tr>\n");
        }
        html.append("</tbody>\n</table>\n");
        html.append("<p class=\"note\">time: the median timed pass, ns/op = time ÷ operations; RSS growth at end:"
                + " after the last operation, before the blocks left live are freed; fragmentation = RSS growth ÷ live"
                + " bytes (n/a when nothing is live); internal waste = usable − requested bytes over every block made or"
                + " resized, and its share of the usable bytes. Best time and lowest peak RSS growth in bold.</p>\n");
    }

    private static void cell(StringBuilder html, String text, boolean best) {
        html.append(best ? "<td class=\"best\">" : "<td>").append(Xml.escape(text)).append("</td>");
    }

    private static String growth(long bytes) {
        return bytes < 0 ? "n/a" : ReplayOutput.mib(bytes);
    }

    private static String ratio(Double ratio) {
        return ratio == null ? "n/a" : String.format(Locale.ROOT, "%.2f×", ratio);
    }

    private static String waste(AllocatorReplay replay) {
        if (!replay.usableSizeKnown()) {
            return "n/a";
        }
        long usable = replay.waste().stream().mapToLong(w -> w.usableBytes()).sum();
        return String.format(Locale.ROOT, "%s (%.1f%%)", ReplayOutput.mib(replay.totalWasteBytes()),
                usable == 0 ? 0.0 : 100.0 * replay.totalWasteBytes() / usable);
    }

    private static void howItRan(StringBuilder html, ReplayReport report, RunNotes notes, List<String> files) {
        ReplaySettings settings = report.settings();
        html.append("<h2>How this was measured</h2>\n<p class=\"note\">");
        html.append(Xml.escape(String.format(Locale.ROOT, "Each allocator replayed the trace in a JVM of its own"
                        + " (%s): first a measured pass that samples live bytes and RSS every %,d operations and at each"
                        + " new peak, then %d untimed warm-up pass%s, then %d timed pass%s. Every block carries a pattern"
                        + " that is checked before it is freed, so a replay that damaged a block would have stopped.",
                notes.jvm(), settings.sampleEvery(), settings.warmup(), settings.warmup() == 1 ? "" : "es",
                settings.repeat(), settings.repeat() == 1 ? "" : "es")));
        html.append("</p>\n<p class=\"note\">Command: <code>").append(Xml.escape(report.command())).append("</code></p>\n");
        notes.skipped().forEach((name, reason) -> html.append("<p class=\"note\">")
                .append(Xml.escape("Skipped " + name + ": " + reason)).append("</p>\n"));
        if (!files.isEmpty()) {
            html.append("<p class=\"note\">").append(Xml.escape("The charts and the heap map were also written"
                    + " beside this page, as SVG files: " + String.join(", ", files) + ".")).append("</p>\n");
        }
    }

    /**
     * A short name of the trace for titles and file names: its file name without folder and without
     * {@code .gz} and {@code .trace} endings, characters other than letters, digits, {@code .},
     * {@code _} and {@code -} replaced by {@code _}: "traces/sqlite.trace.gz" gives "sqlite".
     */
    public static String traceName(String file) {
        String name = fileName(file);
        for (String ending : List.of(".gz", ".trace")) {
            if (name.endsWith(ending) && name.length() > ending.length()) {
                name = name.substring(0, name.length() - ending.length());
            }
        }
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static String fileName(String path) {
        int slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
        return path.substring(slash + 1);
    }
}
