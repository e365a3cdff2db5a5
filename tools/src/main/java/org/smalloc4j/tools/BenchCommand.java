package org.smalloc4j.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.smalloc4j.Allocators;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.tools.bench.BenchFailure;
import org.smalloc4j.tools.bench.BenchSettings;
import org.smalloc4j.tools.bench.CaseResult;
import org.smalloc4j.tools.bench.CaseRunner;
import org.smalloc4j.tools.bench.Measurement;
import org.smalloc4j.tools.bench.PeakRss;
import org.smalloc4j.tools.bench.ProgressLine;
import org.smalloc4j.tools.bench.ResultCharts;
import org.smalloc4j.tools.bench.ResultFiles;
import org.smalloc4j.tools.bench.ResultTable;
import org.smalloc4j.tools.bench.RunDescription;
import org.smalloc4j.tools.bench.Workload;
import org.smalloc4j.tools.bench.Workloads;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code smalloc4j bench}: runs workloads on allocators with 1 and more threads and prints a table of
 * ns/op, the ratio to the fastest allocator of each group and the peak RSS growth, one row per
 * (workload, size, threads, allocator); then writes every row as CSV and JSON, and charts as SVG and
 * PNG, into an output folder. The default run (pairs, mixed, larson and xmalloc on smalloc, system,
 * jemalloc and mimalloc, on 1 and 2 threads) takes about a minute; {@code --workloads} picks others,
 * listed with one line each at the end of {@code --help} ({@link Workloads#helpLines()}). Every
 * allocator sees the same operations (the same seed); allocators are compared within one run, never
 * across runs.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        description = {
            "Benchmarks allocators on workloads, single- and multi-threaded.",
            "",
            "ns/op is per thread (the median of the rounds); Mops/s counts all threads; spread = (slowest -"
                    + " fastest round) / median; ratio = ns/op / the fastest ns/op of the same group (workload,"
                    + " size, threads), the fastest marked with *.",
            "",
            "RSS+MiB is the growth of the peak resident set while the case ran: before each case the peak"
                    + " (VmHWM) is reset by writing 5 to /proc/self/clear_refs and VmRSS is read; after it,"
                    + " VmHWM - that VmRSS. It is the whole JVM's (Java heap, JIT code and thread stacks"
                    + " included), in one JVM for all cases: memory an allocator kept from an earlier case is"
                    + " not counted again, so compare allocators within a group, not cases. The kernel counts"
                    + " RSS approximately: figures below about 0.5 MiB are noise. Where clear_refs cannot be"
                    + " written, the run says so once and shows n/a.",
            "",
            "Files: results.csv and results.json (every row, the settings and the command line), and"
                    + " charts <workload>.svg/.png and peak-rss.svg/.png, in the --output folder.",
            "",
            "Allocators of the default list that cannot be loaded here are skipped with a line saying why;"
                    + " one named with --allocators that cannot be loaded is an error.",
            ""})
final class BenchCommand implements Callable<Integer> {

    /** The allocators of a run without {@code --allocators}: those that cannot load here are skipped. */
    static final String DEFAULT_ALLOCATORS = "smalloc,system,jemalloc,mimalloc";

    /** Where runs without {@code --output} write, each into a folder named after its start time. */
    static final Path DEFAULT_OUTPUT_BASE = Path.of("bench-results");

    @Spec
    private CommandSpec spec;

    @Option(names = {"-a", "--allocators"}, split = ",", paramLabel = "NAME", defaultValue = DEFAULT_ALLOCATORS,
            description = "Allocators to compare: smalloc, system, jemalloc, mimalloc, tracking:<name> (default: ${DEFAULT-VALUE}).")
    private List<String> allocators;

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "N", defaultValue = "1,2",
            description = "Thread counts to run each workload with (default: ${DEFAULT-VALUE}).")
    private List<Integer> threads;

    @Option(names = {"-w", "--workloads"}, split = ",", paramLabel = "NAME", defaultValue = "pairs,mixed,larson,xmalloc",
            description = "Workloads, listed below (default: ${DEFAULT-VALUE}).")
    private List<String> workloads;

    @Option(names = "--sizes", split = ",", paramLabel = "BYTES", defaultValue = "16,256,4096,65536",
            description = "Block sizes of the pairs workload (default: ${DEFAULT-VALUE}).")
    private List<Long> sizes;

    @Option(names = "--slots", paramLabel = "N", defaultValue = "1000",
            description = "Live-block window per thread of the mixed workload (default: ${DEFAULT-VALUE}).")
    private int slots;

    @Option(names = {"-d", "--duration"}, paramLabel = "TIME", converter = DurationConverter.class, defaultValue = "150ms",
            description = "Length of each timed round, e.g. 150ms, 1s (default: ${DEFAULT-VALUE}).")
    private Duration duration;

    @Option(names = "--ops", paramLabel = "N",
            description = "Operations per thread per round instead of a fixed --duration.")
    private long ops;

    @Option(names = "--warmup", paramLabel = "TIME", converter = DurationConverter.class, defaultValue = "300ms",
            description = "Warm-up of each case before its rounds, for the JIT (default: ${DEFAULT-VALUE}).")
    private Duration warmup;

    @Option(names = {"-r", "--rounds"}, paramLabel = "N", defaultValue = "5",
            description = "Timed rounds per case; the table shows their median (default: ${DEFAULT-VALUE}).")
    private int rounds;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the workloads' random plans, the same for every allocator (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Folder for results.csv, results.json and the charts (default: bench-results/<start time>).")
    private Path output;

    @Option(names = "--no-progress",
            description = "No progress line on stderr (it is drawn only when stderr is a terminal anyway).")
    private boolean noProgress;

    /** Lists every workload with its one-line description at the end of {@code bench --help}. */
    static void listWorkloadsInHelp(CommandLine bench) {
        List<String> footer = new ArrayList<>();
        footer.add("");
        footer.add("Workloads (one op = one allocation or free unless said otherwise):");
        Workloads.helpLines().forEach(line -> footer.add(line.replace("%", "%%"))); // picocli formats footers
        bench.getCommandSpec().usageMessage().footer(footer.toArray(String[]::new));
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Instant started = Instant.now();
        List<Workload> chosenWorkloads;
        Map<String, NativeAllocator> chosenAllocators;
        Map<String, String> skippedAllocators = new LinkedHashMap<>();
        BenchSettings settings;
        try {
            checkPositive("--threads", threads.stream().mapToLong(Integer::longValue).min().orElse(0));
            checkPositive("--sizes", sizes.stream().mapToLong(Long::longValue).min().orElse(0));
            chosenWorkloads = Workloads.create(workloads, sizes, slots);
            boolean allocatorsNamed = spec.commandLine().getParseResult().hasMatchedOption("--allocators");
            chosenAllocators = loadAllocators(allocators, allocatorsNamed, Allocators::named, skippedAllocators);
            settings = new BenchSettings(warmup, duration, ops, rounds, seed);
        } catch (IllegalArgumentException | IllegalStateException e) { // unknown, or known but not loadable
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        Path folder = output != null ? output : ResultFiles.timestampedFolder(DEFAULT_OUTPUT_BASE, started);
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--output: cannot make folder " + folder
                    + ": " + e, e);
        }
        PeakRss peakRss = PeakRss.ofThisProcess();
        RunDescription run = new RunDescription(started, spec.commandLine().getParseResult().originalArgs(),
                List.copyOf(chosenAllocators.keySet()), skippedAllocators, workloads, threads, sizes, slots, settings,
                peakRss.unavailableReason(), Optional.empty());

        printPreamble(out, run);
        ResultTable table = new ResultTable(out, chosenWorkloads, run.allocators());
        table.printHeader();
        ProgressLine progress = ProgressLine.forStderr(err, !noProgress,
                countCases(chosenWorkloads) * chosenAllocators.size());
        List<CaseResult> rows = new ArrayList<>();
        try {
            for (Workload workload : chosenWorkloads) {
                for (int threadCount : threads) {
                    if (threadCount > workload.maxThreads()) {
                        continue; // a single-threaded workload: its one row is enough
                    }
                    List<Measurement> group = new ArrayList<>();
                    List<OptionalLong> peakRssGrowth = new ArrayList<>();
                    for (NativeAllocator allocator : chosenAllocators.values()) {
                        progress.startCase(workload.name() + " " + workload.sizeLabel() + ", " + threadCount
                                + (threadCount == 1 ? " thread, " : " threads, ") + allocator.name());
                        OptionalLong rssAtStart = peakRss.resetPeak();
                        group.add(CaseRunner.measure(workload, allocator, threadCount, settings));
                        peakRssGrowth.add(peakRss.growthSince(rssAtStart));
                        progress.caseDone();
                    }
                    List<CaseResult> ranked = CaseResult.rankGroup(group, peakRssGrowth);
                    rows.addAll(ranked);
                    progress.printAbove(() -> table.printGroup(ranked));
                }
            }
        } catch (BenchFailure e) {
            run = run.failed(e.getMessage());
        } finally {
            progress.finish();
        }
        boolean written = writeFiles(out, err, folder, run, rows);
        if (run.failure().isPresent()) {
            err.println("smalloc4j bench: " + run.failure().get());
            err.flush();
            return 1;
        }
        return written ? 0 : 1;
    }

    /**
     * The allocators of the run, by name, in the order given (a name given twice runs once).
     *
     * @param named did the user name them ({@code --allocators})? then one that cannot load is an error;
     *        else (the default list) it is skipped and put into {@code skipped} with the reason
     * @param loader {@link Allocators#named}; throws {@link IllegalStateException} for a known name that cannot load
     * @throws IllegalArgumentException for an unknown name (from the loader)
     * @throws IllegalStateException if a named allocator cannot load, or none can
     */
    static Map<String, NativeAllocator> loadAllocators(List<String> names, boolean named,
            Function<String, NativeAllocator> loader, Map<String, String> skipped) {
        Map<String, NativeAllocator> loaded = new LinkedHashMap<>();
        for (String name : names) {
            if (loaded.containsKey(name)) {
                continue;
            }
            try {
                loaded.put(name, loader.apply(name));
            } catch (IllegalStateException e) {
                if (named) {
                    throw e;
                }
                skipped.put(name, e.getMessage());
            }
        }
        if (loaded.isEmpty()) {
            throw new IllegalStateException("none of the allocators " + String.join(", ", names) + " can be loaded here");
        }
        return loaded;
    }

    /** The cases of one allocator: a workload with a thread count above its maximum does not run. */
    private int countCases(List<Workload> chosenWorkloads) {
        int cases = 0;
        for (Workload workload : chosenWorkloads) {
            cases += (int) threads.stream().filter(count -> count <= workload.maxThreads()).count();
        }
        return Math.max(cases, 1);
    }

    /** Writes the CSV, the JSON and the charts, and says where; false (and a line on stderr) if that failed. */
    private static boolean writeFiles(PrintWriter out, PrintWriter err, Path folder, RunDescription run,
            List<CaseResult> rows) {
        try {
            ResultFiles.writeCsv(folder, rows);
            ResultFiles.writeJson(folder, run, rows);
            List<Path> charts = ResultCharts.write(folder, run.allocators(), rows);
            out.println();
            String chartNames = charts.stream().map(path -> path.getFileName().toString())
                    .filter(name -> name.endsWith(".svg")).map(name -> name.replace(".svg", ""))
                    .collect(Collectors.joining(", "));
            out.println("results in " + folder + ": " + ResultFiles.CSV + ", " + ResultFiles.JSON
                    + (charts.isEmpty() ? "" : ", charts " + chartNames + " (.svg and .png)"));
            out.flush();
            return true;
        } catch (IOException | RuntimeException e) {
            err.println("smalloc4j bench: cannot write the results into " + folder + ": " + e);
            err.flush();
            return false;
        }
    }

    private void checkPositive(String option, long smallest) {
        if (smallest < 1) {
            throw new IllegalArgumentException(option + " needs values of at least 1");
        }
    }

    private static void printPreamble(PrintWriter out, RunDescription run) {
        BenchSettings settings = run.settings();
        out.println("smalloc4j bench on JDK " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
                + " CPUs, " + System.getProperty("os.arch"));
        String rounds = settings.rounds() + " rounds of "
                + (settings.fixedOps() ? settings.opsPerRound() + " ops" : DurationConverter.format(settings.roundTime()));
        out.println("each case: warm-up " + DurationConverter.format(settings.warmup()) + ", then " + rounds
                + " per thread; seed " + settings.seed());
        // the arguments as given to smalloc4j, subcommand included: the command that reproduces the run
        out.println("command: " + run.commandLine());
        run.skippedAllocators().forEach((name, reason) -> out.println("skipped " + name + ": " + reason));
        run.peakRssUnavailable().ifPresent(reason -> out.println("peak RSS: n/a, " + reason));
        out.println();
        out.flush();
    }
}
