package org.smalloc4j.tools;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import org.smalloc4j.Allocators;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.TrackingAllocator;
import org.smalloc4j.tools.bench.BenchFailure;
import org.smalloc4j.tools.bench.BenchSettings;
import org.smalloc4j.tools.bench.Workload;
import org.smalloc4j.tools.bench.Workloads;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code smalloc4j record}: runs one of {@code bench}'s workloads for a fixed number of operations on
 * a {@link TrackingAllocator} that records a trace, for {@code smalloc4j replay}. The workload's
 * threads run at once as in {@code bench}; the trace keeps the order their operations took effect.
 */
@Command(name = "record",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        description = "Records an allocation trace of a bench workload, for smalloc4j replay.")
final class RecordCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = {"-w", "--workload"}, paramLabel = "NAME", defaultValue = "mixed",
            description = "A bench workload (smalloc4j bench --help lists them) (default: ${DEFAULT-VALUE}).")
    private String workload;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "The trace file to write.")
    private Path output;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "40000",
            description = "Operations per thread (default: ${DEFAULT-VALUE}).")
    private long ops;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "1",
            description = "Threads (default: ${DEFAULT-VALUE}).")
    private int threads;

    @Option(names = {"-a", "--allocator"}, paramLabel = "NAME", defaultValue = "smalloc",
            description = "The allocator under the recorder (default: ${DEFAULT-VALUE}).")
    private String allocator;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "256",
            description = "Block size of the pairs workload (default: ${DEFAULT-VALUE}).")
    private long size;

    @Option(names = "--slots", paramLabel = "N", defaultValue = "1000",
            description = "Live-block window per thread of the mixed workload (default: ${DEFAULT-VALUE}).")
    private int slots;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the workload's random plan (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Override
    public Integer call() throws InterruptedException {
        Workload chosen;
        NativeAllocator inner;
        try {
            if (ops < 1 || threads < 1 || size < 1) {
                throw new IllegalArgumentException("--ops, --threads and --size must be at least 1 (ops " + ops
                        + ", threads " + threads + ", size " + size + ")");
            }
            List<Workload> workloads = Workloads.create(List.of(workload), List.of(size), slots);
            chosen = workloads.getFirst();
            if (threads > chosen.maxThreads()) {
                throw new IllegalArgumentException(workload + " runs on at most " + chosen.maxThreads() + " threads");
            }
            inner = Allocators.named(allocator);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no folder " + parent + " for " + output);
        }

        TrackingAllocator tracker = TrackingAllocator.builder(inner).traceTo(output).build();
        BenchSettings seeds = new BenchSettings(Duration.ZERO, Duration.ofSeconds(1), ops, 1, seed);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Workload.Case sharedCase = chosen.newCase(tracker, threads);
        Thread[] running = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int index = t;
            running[t] = Thread.ofPlatform().name("record-" + t).start(() -> {
                try {
                    Workload.Worker worker = sharedCase.newWorker(index, seeds.threadSeed(index));
                    worker.run(ops);
                    worker.finish();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        for (Thread thread : running) {
            thread.join();
        }
        PrintWriter out = spec.commandLine().getOut();
        try {
            if (failure.get() == null) {
                sharedCase.finish();
            }
        } catch (BenchFailure e) {
            failure.compareAndSet(null, e);
        } finally {
            tracker.close();
        }
        if (failure.get() != null) {
            spec.commandLine().getErr().println("smalloc4j record: " + failure.get());
            spec.commandLine().getErr().flush();
            return 1;
        }
        out.printf(Locale.ROOT, "recorded %s: %s, %d thread%s x %d ops on %s: %d allocations, %d frees, %d reallocs,"
                        + " peak live %d bytes, %d bytes of trace%n", output, chosen.name(), threads,
                threads == 1 ? "" : "s", ops, inner.name(), tracker.allocationCount(), tracker.freeCount(),
                tracker.reallocCount(), tracker.peakBytes(), output.toFile().length());
        out.println("command: smalloc4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        out.flush();
        return 0;
    }
}
