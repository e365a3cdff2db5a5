package org.smalloc4j.tools;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.smalloc4j.Allocators;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.tools.bench.BenchFailure;
import org.smalloc4j.tools.bench.BenchSettings;
import org.smalloc4j.tools.bench.CaseRunner;
import org.smalloc4j.tools.bench.Measurement;
import org.smalloc4j.tools.bench.ResultTable;
import org.smalloc4j.tools.bench.Workload;
import org.smalloc4j.tools.bench.Workloads;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code smalloc4j bench}: runs workloads on allocators with 1 and more threads and prints ns/op and
 * the ratio to smalloc, one table row per (workload, size, threads, allocator). The default run
 * takes about 25 seconds (pairs and mixed); {@code --workloads} picks others, listed with one line
 * each at the end of {@code --help} ({@link Workloads#helpLines()}). Every allocator sees the same
 * operations (the same seed); allocators are compared within one run, never across runs.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        description = {
            "Benchmarks allocators on workloads, single- and multi-threaded.",
            "",
            "ns/op is per thread (the median of the rounds); spread = (slowest - fastest round) / median;"
                    + " ratio = ns/op / smalloc's ns/op in the same group (or the fastest's without smalloc).",
            ""})
final class BenchCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = {"-a", "--allocators"}, split = ",", paramLabel = "NAME", defaultValue = "smalloc,system",
            description = "Allocators to compare: smalloc, system, jemalloc, mimalloc, tracking:<name> (default: ${DEFAULT-VALUE}).")
    private List<String> allocators;

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "N", defaultValue = "1,2",
            description = "Thread counts to run each workload with (default: ${DEFAULT-VALUE}).")
    private List<Integer> threads;

    @Option(names = {"-w", "--workloads"}, split = ",", paramLabel = "NAME", defaultValue = "pairs,mixed",
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
        List<Workload> chosenWorkloads;
        Map<String, NativeAllocator> chosenAllocators = new LinkedHashMap<>();
        BenchSettings settings;
        try {
            checkPositive("--threads", threads.stream().mapToLong(Integer::longValue).min().orElse(0));
            checkPositive("--sizes", sizes.stream().mapToLong(Long::longValue).min().orElse(0));
            chosenWorkloads = Workloads.create(workloads, sizes, slots);
            for (String name : allocators) {
                chosenAllocators.putIfAbsent(name, Allocators.named(name));
            }
            settings = new BenchSettings(warmup, duration, ops, rounds, seed);
        } catch (IllegalArgumentException | IllegalStateException e) { // unknown, or known but not loadable
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }

        printPreamble(out, settings);
        ResultTable table = new ResultTable(out, chosenWorkloads, List.copyOf(chosenAllocators.keySet()));
        table.printHeader();
        try {
            for (Workload workload : chosenWorkloads) {
                for (int threadCount : threads) {
                    if (threadCount > workload.maxThreads()) {
                        continue; // a single-threaded workload: its one row is enough
                    }
                    List<Measurement> group = new ArrayList<>();
                    for (NativeAllocator allocator : chosenAllocators.values()) {
                        group.add(CaseRunner.measure(workload, allocator, threadCount, settings));
                    }
                    table.printGroup(group);
                }
            }
        } catch (BenchFailure e) {
            spec.commandLine().getErr().println("smalloc4j bench: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 1;
        }
        return 0;
    }

    private void checkPositive(String option, long smallest) {
        if (smallest < 1) {
            throw new IllegalArgumentException(option + " needs values of at least 1");
        }
    }

    private void printPreamble(PrintWriter out, BenchSettings settings) {
        out.println("smalloc4j bench on JDK " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
                + " CPUs, " + System.getProperty("os.arch"));
        String rounds = settings.rounds() + " rounds of "
                + (settings.fixedOps() ? settings.opsPerRound() + " ops" : DurationConverter.format(settings.roundTime()));
        out.println("each case: warm-up " + DurationConverter.format(settings.warmup()) + ", then " + rounds
                + " per thread; seed " + settings.seed());
        // the arguments as given to smalloc4j, subcommand included: the command that reproduces the run
        out.println("command: smalloc4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        out.println();
        out.flush();
    }
}
