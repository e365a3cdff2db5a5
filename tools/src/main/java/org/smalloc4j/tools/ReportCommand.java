package org.smalloc4j.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import org.smalloc4j.Allocators;
import org.smalloc4j.tools.chart.Charts;
import org.smalloc4j.tools.heapmap.HeapMap;
import org.smalloc4j.tools.replay.TraceSummary;
import org.smalloc4j.tools.report.PeakHeapMap;
import org.smalloc4j.tools.report.ReportCharts;
import org.smalloc4j.tools.report.ReportPage;
import org.smalloc4j.tools.report.RunNotes;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code smalloc4j report TRACE}: replays a trace on several allocators as {@code replay} does (each
 * in a JVM of its own, {@link ReplayRun}) and writes one self-contained HTML page
 * ({@link ReportPage}): which allocator wins the trace and by how much, a table, charts over the
 * trace, and Smalloc's heap map at the trace's peak, taken in Smalloc's child JVM. The charts and the
 * heap map are also written beside the page as SVG files named after the trace
 * ({@code sqlite-rss.svg}, {@code sqlite-heapmap.svg}, ...).
 */
@Command(name = "report",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        description = {
            "Replays an allocation trace on allocators, each in a fresh JVM, and writes an HTML report.",
            "",
            "The replay is smalloc4j replay's (see its --help). The page names the trace, says which allocator"
                    + " replays it fastest (the shortest median timed pass) and by how much, and which has the lowest"
                    + " peak RSS growth; then a table per allocator, charts of live bytes and RSS growth over the"
                    + " trace, replay time and internal waste per size class, and the heap map of smalloc at the"
                    + " moment of the trace's peak live bytes. Everything is inline: the page is one file. The charts"
                    + " and the heap map are also written beside it as TRACENAME-{live,rss,time,waste,heapmap}.svg.",
            ""})
final class ReportCommand implements Callable<Integer> {

    /** The allocator whose child takes the heap's stats at the trace's peak, for the heap map. */
    private static final String HEAP_MAP_ALLOCATOR = "smalloc";

    @Spec
    private CommandSpec spec;

    @Mixin
    private ReplayRun replay;

    @Option(names = {"-a", "--allocators"}, split = ",", paramLabel = "NAME", defaultValue = BenchCommand.DEFAULT_ALLOCATORS,
            description = "Allocators to replay on: smalloc, system, jemalloc, mimalloc, tracking:<name>; of the default"
                    + " list, those that cannot load here are skipped, with the reason on the page (default:"
                    + " ${DEFAULT-VALUE}).")
    private List<String> allocators;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "report.html",
            description = "The page to write, FILE.html; the SVG files go into its folder (default: ${DEFAULT-VALUE}).")
    private Path output;

    @Option(names = "--program", paramLabel = "TEXT",
            description = "What program recorded the trace, doing what: for the page's header.")
    private String program;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String name = String.valueOf(output.getFileName()).toLowerCase(Locale.ROOT);
        if (!name.endsWith(".html") && !name.endsWith(".htm")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--output " + output + ": the report is an HTML page, its name must end in .html");
        }
        if (program != null && program.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--program is blank: describe the program"
                    + " that recorded the trace, or leave the option out");
        }
        Map<String, String> skipped = new LinkedHashMap<>();
        List<String> chosen;
        try {
            boolean named = spec.commandLine().getParseResult().hasMatchedOption("--allocators");
            chosen = List.copyOf(BenchCommand.loadAllocators(allocators, named, Allocators::named, skipped).keySet());
        } catch (IllegalArgumentException | IllegalStateException e) { // unknown, or known but not loadable
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        Instant started = Instant.now();
        Optional<String> loadAtStart = RunNotes.loadAverage();
        skipped.forEach((allocator, reason) -> out.println("skipped " + allocator + ": " + reason));

        Optional<ReplayRun.Replayed> replayed = replay.run(chosen, HEAP_MAP_ALLOCATOR);
        if (replayed.isEmpty()) {
            return 1;
        }
        RunNotes notes = new RunNotes(Optional.ofNullable(program), started, Runtime.getRuntime().availableProcessors(),
                loadAtStart, RunNotes.loadAverage(), RunNotes.thisJvm(), skipped);
        try {
            for (Path file : write(replayed.get(), notes)) {
                out.println("wrote " + file);
            }
        } catch (IOException e) {
            replay.failed("cannot write the report " + output + ": " + e);
            return 1;
        }
        out.flush();
        return 0;
    }

    /** Writes the SVG files, then the page that names them; returns the files, the page first. */
    private List<Path> write(ReplayRun.Replayed replayed, RunNotes notes) throws IOException {
        Files.createDirectories(output.toAbsolutePath().getParent());
        TraceSummary trace = replayed.report().trace();
        String prefix = ReportPage.traceName(trace.file());
        Optional<HeapMap> heapMap = replayed.statsAtPeak().map(stats -> PeakHeapMap.of(stats, trace, prefix));
        List<ReportCharts.Figure> figures = ReportCharts.of(replayed.report());

        List<Path> svgs = new ArrayList<>();
        for (ReportCharts.Figure figure : figures) {
            Path file = output.resolveSibling(prefix + "-" + figure.name() + ".svg");
            Charts.write(figure.chart(), file, figure.width(), figure.height());
            svgs.add(file);
        }
        if (heapMap.isPresent()) {
            Path file = output.resolveSibling(prefix + "-heapmap.svg");
            Files.writeString(file, heapMap.get().svg(HeapMap.Measure.IN_USE), StandardCharsets.UTF_8);
            svgs.add(file);
        }
        List<String> names = svgs.stream().map(file -> file.getFileName().toString()).toList();
        Files.writeString(output, ReportPage.html(replayed.report(), figures, heapMap, notes, names),
                StandardCharsets.UTF_8);
        List<Path> written = new ArrayList<>(List.of(output));
        written.addAll(svgs);
        return written;
    }
}
