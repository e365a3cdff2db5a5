package org.smalloc4j.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.tools.bench.BenchFailure;
import org.smalloc4j.tools.bench.Workload;
import org.smalloc4j.tools.bench.Workloads;
import org.smalloc4j.tools.heapmap.DemoWorkload;
import org.smalloc4j.tools.heapmap.HeapMap;
import org.smalloc4j.tools.heapmap.WorkloadSnapshot;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code smalloc4j heapmap}: runs a workload on a fresh Smalloc heap (default settings, 64 slabs per
 * class), stops while its blocks are live, and draws the heap ({@link HeapMap}) into an HTML page or
 * an SVG file, chosen by the output's extension.
 */
@Command(name = "heapmap",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        description = {
            "Draws a Smalloc heap: per size class and slab, slots in use, free and never touched, and pages"
                    + " resident.",
            "",
            "Runs --workload on a fresh heap with --threads threads, --ops operations each, then takes the"
                    + " heap's stats while the blocks are live and writes the map: an interactive HTML page"
                    + " (hover a cell for its counts, switch the colour between slots in use and pages"
                    + " resident) or an SVG image.",
            ""})
final class HeapMapCommand implements Callable<Integer> {

    /** The heap map's own mix; every other name is a {@code bench} workload. */
    static final String DEMO = "demo";
    /** The block size of the {@code pairs} workload here. */
    private static final long PAIRS_SIZE = 256;
    /** The live-block window of the {@code mixed} workload here: {@code bench}'s default. */
    private static final int MIXED_SLOTS = 1000;

    @Spec
    private CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "heapmap.html",
            description = "Where to write the map: FILE.html (a page) or FILE.svg (an image) (default: ${DEFAULT-VALUE}).")
    private Path output;

    @Option(names = {"-w", "--workload"}, paramLabel = "NAME", defaultValue = DEMO,
            description = "demo (8 B to 2 MiB, 512 live blocks per thread), or a bench workload: see"
                    + " `smalloc4j bench --help`; pairs uses 256-byte blocks (default: ${DEFAULT-VALUE}).")
    private String workloadName;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "4",
            description = "Threads; each mostly uses a slab of its own (default: ${DEFAULT-VALUE}).")
    private int threads;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "20000",
            description = "Operations per thread before the snapshot (default: ${DEFAULT-VALUE}).")
    private long ops;

    @Option(names = "--colour", paramLabel = "MEASURE", defaultValue = "in-use",
            description = "For SVG: colour cells by in-use (slots in use / touched) or resident (pages"
                    + " resident / spanned); the HTML page switches between both (default: ${DEFAULT-VALUE}).")
    private String colour;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the workload's random plan (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean svg = formatIsSvg();
        HeapMap.Measure measure = measure();
        Workload workload = workload();
        if (threads < 1 || ops < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    (threads < 1 ? "--threads " + threads : "--ops " + ops) + " is below 1");
        }
        if (threads > workload.maxThreads()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads " + threads + ": workload "
                    + workload.name() + " runs on at most " + workload.maxThreads() + " thread"
                    + (workload.maxThreads() == 1 ? "" : "s"));
        }

        SmallocStats stats;
        try (Smalloc heap = Smalloc.builder().name("heapmap").build()) {
            stats = WorkloadSnapshot.take(workload, heap, threads, ops, seed);
        } catch (BenchFailure | IllegalStateException e) {
            spec.commandLine().getErr().println("smalloc4j heapmap: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 1;
        }
        HeapMap map = HeapMap.of(stats).caption(String.format(Locale.ROOT,
                "workload %s, %d thread%s × %d operations, seed %d: snapshot while its blocks are live",
                workload.name(), threads, threads == 1 ? "" : "s", ops, seed));
        try {
            Files.writeString(output, svg ? map.svg(measure) : map.htmlPage(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            spec.commandLine().getErr().println("smalloc4j heapmap: cannot write " + output + ": " + e);
            spec.commandLine().getErr().flush();
            return 1;
        }
        out.printf(Locale.ROOT, "heapmap: wrote %s (%d size classes × %d slabs): %d blocks live, %d bytes in use,"
                        + " %d bytes resident%n", output, stats.classes().size(), stats.classes().getFirst().slabs().size(),
                stats.slotsInUse(), stats.bytesInUse(), stats.bytesResident());
        if (stats.slotsInUse() == 0) {
            out.println("heapmap: " + workload.name() + " holds no block between its operations: the map shows"
                    + " the slots it touched, none in use");
        }
        out.flush();
        return 0;
    }

    private boolean formatIsSvg() {
        String name = String.valueOf(output.getFileName()).toLowerCase(Locale.ROOT);
        if (name.endsWith(".svg")) {
            return true;
        }
        if (name.endsWith(".html") || name.endsWith(".htm")) {
            return false;
        }
        throw new CommandLine.ParameterException(spec.commandLine(),
                "--output " + output + ": the name must end in .html (a page) or .svg (an image)");
    }

    private HeapMap.Measure measure() {
        return switch (colour) {
            case "in-use" -> HeapMap.Measure.IN_USE;
            case "resident" -> HeapMap.Measure.RESIDENT;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--colour " + colour + ": expected in-use or resident");
        };
    }

    private Workload workload() {
        if (workloadName.equals(DEMO)) {
            return new DemoWorkload();
        }
        if (!Workloads.NAMES.contains(workloadName)) {
            List<String> known = new ArrayList<>(List.of(DEMO));
            known.addAll(Workloads.NAMES);
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "unknown workload '" + workloadName + "'; known: " + String.join(", ", known));
        }
        return Workloads.create(List.of(workloadName), List.of(PAIRS_SIZE), MIXED_SLOTS).getFirst();
    }
}
