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
import java.util.Optional;
import java.util.regex.Pattern;

import org.smalloc4j.SmallocStats;
import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.ReplayFailure;
import org.smalloc4j.tools.replay.ReplayOutput;
import org.smalloc4j.tools.replay.ReplayProcess;
import org.smalloc4j.tools.replay.ReplayReport;
import org.smalloc4j.tools.replay.ReplaySettings;
import org.smalloc4j.tools.replay.ReplayTrace;
import org.smalloc4j.tools.replay.TraceSummary;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What {@code replay} and {@code report} share, as a picocli mixin: the trace and the options of a
 * replay, and the run itself: load the trace, replay it on each allocator in a JVM of its own
 * ({@link ReplayProcess}), print the tables, and check that every allocator reached the trace's peak.
 */
final class ReplayRun {

    /** Samples of the series when --sample-every is not given: about this many. */
    private static final int DEFAULT_SAMPLES = 500;

    /** Arguments that a shell takes as they are; others are quoted. */
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./=:,@%+-]+");

    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TRACE",
            description = "A trace file (TrackingAllocator.builder(...).traceTo, -Dsmalloc4j.trace, smalloc4j record).")
    Path trace;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
            description = "Untimed passes per allocator before the timed ones, for the JIT (default: ${DEFAULT-VALUE}).")
    private int warmup;

    @Option(names = {"-r", "--repeat"}, paramLabel = "N", defaultValue = "5",
            description = "Timed passes per allocator, after the measured and the warm-up ones (default: ${DEFAULT-VALUE}).")
    private int repeat;

    @Option(names = "--sample-every", paramLabel = "N",
            description = "Operations between two samples of live bytes and RSS (default: operations / " + DEFAULT_SAMPLES + ").")
    private Integer sampleEvery;

    @Option(names = "--threads-as-recorded",
            description = "One replay thread per recorded thread, each operation on its recorder's stand-in, the threads"
                    + " taking turns in trace order (thread caches and cross-thread frees as recorded; time then"
                    + " measures the turn-taking, not the allocator).")
    private boolean threadsAsRecorded;

    @Option(names = "--allow-incomplete",
            description = "Replay a trace cut short (no END record: its program died) up to the cut.")
    private boolean allowIncomplete;

    /**
     * A finished run.
     *
     * @param report every allocator's result, in the order asked for
     * @param statsAtPeak the Smalloc heap's stats at the trace's peak, when they were asked for
     */
    record Replayed(ReplayReport report, Optional<SmallocStats> statsAtPeak) {
    }

    /**
     * Checks the options, replays the trace on every allocator (a name given twice runs once) and
     * prints the preamble and the tables to the command's output.
     *
     * @param statsAtPeakOf the allocator (a Smalloc heap: {@code smalloc}) whose child also takes the
     *        heap's stats at the trace's peak, or null for none
     * @return the run; empty when the trace could not be loaded or a replay failed, the reason printed
     *         to the command's error stream (exit code 1)
     * @throws CommandLine.ParameterException if an option is out of range or the trace is not readable
     */
    Optional<Replayed> run(List<String> allocators, String statsAtPeakOf) throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
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
            return failed(e.getMessage());
        }
        TraceSummary summary = loaded.summary();
        int every = sampleEvery != null ? sampleEvery : Math.max(1, loaded.operations() / DEFAULT_SAMPLES);
        ReplaySettings settings = new ReplaySettings(warmup, repeat, every, threadsAsRecorded);
        printPreamble(out, summary, settings);

        List<AllocatorReplay> results = new ArrayList<>();
        Optional<SmallocStats> statsAtPeak = Optional.empty();
        Path workDir = Files.createTempDirectory("smalloc4j-" + spec.name());
        try {
            for (String allocator : new LinkedHashSet<>(allocators)) {
                ReplayProcess.Outcome outcome = ReplayProcess.run(trace, summary, allocator, settings, allowIncomplete,
                        workDir, allocator.equals(statsAtPeakOf));
                results.add(outcome.replay());
                if (outcome.statsAtPeak().isPresent()) {
                    statsAtPeak = outcome.statsAtPeak();
                }
            }
        } catch (ReplayFailure e) {
            return failed(e.getMessage());
        } finally {
            deleteRecursively(workDir);
        }
        ReplayReport report = new ReplayReport(command(), summary, settings, results);
        ReplayOutput.print(out, report);
        for (AllocatorReplay result : results) {
            if (result.peakLiveBytes() != summary.peakLiveBytes()) {
                return failed("'" + result.allocator() + "' reached " + result.peakLiveBytes() + " peak live bytes, the"
                        + " trace " + summary.peakLiveBytes() + ": the replay was not faithful");
            }
        }
        out.printf(Locale.ROOT, "%npeak live bytes: %d on every allocator, as in the trace%n", summary.peakLiveBytes());
        out.flush();
        return Optional.of(new Replayed(report, statsAtPeak));
    }

    /** Says why on the error stream, as "smalloc4j COMMAND: why". */
    Optional<Replayed> failed(String why) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("smalloc4j " + spec.name() + ": " + why);
        err.flush();
        return Optional.empty();
    }

    private void printPreamble(PrintWriter out, TraceSummary summary, ReplaySettings settings) {
        out.printf(Locale.ROOT, "smalloc4j %s of %s (recorded on %s%s)%n", spec.name(), summary.file(),
                summary.tracedAllocator(), summary.complete() ? "" : ", CUT SHORT: replayed up to the cut");
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

    /**
     * The arguments as given, subcommand included, quoted for a POSIX shell where they need it: the
     * command that reproduces the run.
     */
    String command() {
        StringBuilder command = new StringBuilder("smalloc4j");
        for (String argument : spec.commandLine().getParseResult().originalArgs()) {
            command.append(' ').append(SHELL_SAFE.matcher(argument).matches() ? argument
                    : "'" + argument.replace("'", "'\\''") + "'");
        }
        return command.toString();
    }

    private static void deleteRecursively(Path directory) throws IOException {
        try (var files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
