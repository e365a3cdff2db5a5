package org.smalloc4j.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.ReplayFailure;
import org.smalloc4j.tools.replay.ReplayOutput;
import org.smalloc4j.tools.replay.ReplayProcess;
import org.smalloc4j.tools.replay.ReplayReport;
import org.smalloc4j.tools.replay.ReplaySettings;
import org.smalloc4j.tools.replay.ReplayTrace;
import org.smalloc4j.tools.replay.TraceSummary;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code smalloc4j replay TRACE}: replays a trace that a {@code TrackingAllocator} recorded on
 * several allocators, each in a JVM of its own, and compares time, resident memory, fragmentation and
 * internal waste. Every allocator must reach the trace's peak live bytes exactly: the replay is the
 * same operations, in the same order, on each.
 */
@Command(name = "replay",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        description = {
            "Replays an allocation trace on allocators, each in a fresh JVM, and compares them.",
            "",
            "The trace's operations (alloc, allocZeroed, realloc, free) run in trace order on one thread (a"
                    + " multithreaded trace too: the order its records took effect; see --threads-as-recorded), each"
                    + " block checked before it is freed. First a measured pass samples live bytes and RSS (VmRSS growth over the JVM's"
                    + " RSS at the start) every N operations and at each new peak; then --warmup untimed and --repeat"
                    + " timed passes. time and ns/op: the median timed pass; RSS grow end: after the last"
                    + " operation, before leftovers are freed; frag = RSS growth / live bytes; ratio = ns/op /"
                    + " the fastest's.",
            ""})
final class ReplayCommand implements Callable<Integer> {

    /** Samples of the series when --sample-every is not given: about this many. */
    private static final int DEFAULT_SAMPLES = 500;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TRACE",
            description = "A trace file (TrackingAllocator.builder(...).traceTo, -Dsmalloc4j.trace, smalloc4j record).")
    private Path trace;

    @Option(names = {"-a", "--allocators"}, split = ",", paramLabel = "NAME", defaultValue = "smalloc,system",
            description = "Allocators to replay on: smalloc, system, jemalloc, mimalloc, tracking:<name> (default: ${DEFAULT-VALUE}).")
    private List<String> allocators;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
            description = "Untimed passes per allocator before the timed ones, for the JIT (default: ${DEFAULT-VALUE}).")
    private int warmup;

    @Option(names = {"-r", "--repeat"}, paramLabel = "N", defaultValue = "5",
            description = "Timed passes per allocator, after the measured and the warm-up ones (default: ${DEFAULT-VALUE}).")
    private int repeat;

    @Option(names = "--sample-every", paramLabel = "N",
            description = "Operations between two samples of live bytes and RSS (default: operations / " + DEFAULT_SAMPLES + ").")
    private Integer sampleEvery;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Write replay.json, summary.csv, series.csv and waste.csv into DIR.")
    private Path output;

    @Option(names = "--threads-as-recorded",
            description = "One replay thread per recorded thread, each operation on its recorder's stand-in, the threads"
                    + " taking turns in trace order (thread caches and cross-thread frees as recorded; time then"
                    + " measures the turn-taking, not the allocator).")
    private boolean threadsAsRecorded;

    @Option(names = "--allow-incomplete",
            description = "Replay a trace cut short (no END record: its program died) up to the cut.")
    private boolean allowIncomplete;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (repeat < 1 || warmup < 0 || (sampleEvery != null && sampleEvery < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--repeat and --sample-every must be at least 1"
                    + " and --warmup not negative (repeat " + repeat + ", sample-every " + sampleEvery + ", warmup "
                    + warmup + ")");
        }
        if (!Files.isReadable(trace)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "trace " + trace + " is not a readable file");
        }
        ReplayTrace loaded;
        try {
            loaded = ReplayTrace.load(trace, allowIncomplete);
        } catch (IOException e) {
            err.println("smalloc4j replay: " + e.getMessage());
            err.flush();
            return 1;
        }
        TraceSummary summary = loaded.summary();
        int every = sampleEvery != null ? sampleEvery : Math.max(1, loaded.operations() / DEFAULT_SAMPLES);
        ReplaySettings settings = new ReplaySettings(warmup, repeat, every, threadsAsRecorded);
        printPreamble(out, summary, settings);

        List<AllocatorReplay> results = new ArrayList<>();
        Path workDir = Files.createTempDirectory("smalloc4j-replay");
        try {
            for (String allocator : new LinkedHashSet<>(allocators)) {
                results.add(ReplayProcess.run(trace, summary, allocator, settings, allowIncomplete, workDir));
            }
        } catch (ReplayFailure e) {
            err.println("smalloc4j replay: " + e.getMessage());
            err.flush();
            return 1;
        } finally {
            deleteRecursively(workDir);
        }
        ReplayReport report = new ReplayReport(command(), summary, settings, results);
        ReplayOutput.print(out, report);
        for (AllocatorReplay result : results) {
            if (result.peakLiveBytes() != summary.peakLiveBytes()) {
                err.println("smalloc4j replay: '" + result.allocator() + "' reached " + result.peakLiveBytes()
                        + " peak live bytes, the trace " + summary.peakLiveBytes() + ": the replay was not faithful");
                err.flush();
                return 1;
            }
        }
        out.printf(Locale.ROOT, "%npeak live bytes: %d on every allocator, as in the trace%n", summary.peakLiveBytes());
        if (output != null) {
            for (Path file : ReplayOutput.write(output, report)) {
                out.println("wrote " + file);
            }
        }
        out.flush();
        return 0;
    }

    private void printPreamble(PrintWriter out, TraceSummary summary, ReplaySettings settings) {
        out.printf(Locale.ROOT, "smalloc4j replay of %s (recorded on %s%s)%n", summary.file(), summary.tracedAllocator(),
                summary.complete() ? "" : ", CUT SHORT: replayed up to the cut");
        out.printf(Locale.ROOT, "%d operations on %d blocks by %d thread%s (replayed %s), %d failed requests skipped%n",
                summary.operations(), summary.blocks(), summary.threads(), summary.threads() == 1 ? "" : "s",
                settings.threadsAsRecorded() ? "on one thread per recorded thread, taking turns in trace order"
                        : "on one thread, in trace order", summary.failedRecords());
        out.printf(Locale.ROOT, "peak live %d bytes after operation %d, %d bytes live at the end%n",
                summary.peakLiveBytes(), summary.peakLiveOp(), summary.endLiveBytes());
        out.printf(Locale.ROOT, "each allocator in its own JVM: a measured pass (a sample every %d operations and at"
                + " new peaks), %d untimed warm-up pass%s, then %d timed pass%s%n", settings.sampleEvery(),
                settings.warmup(), settings.warmup() == 1 ? "" : "es", settings.repeat(),
                settings.repeat() == 1 ? "" : "es");
        out.println("command: " + command());
        out.println();
        out.flush();
    }

    /** The arguments as given, subcommand included: the command that reproduces the run. */
    private String command() {
        return "smalloc4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }

    private static void deleteRecursively(Path directory) throws IOException {
        try (var files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
