package org.smalloc4j.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

import org.smalloc4j.tools.replay.ReplayOutput;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
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

    @Spec
    private CommandSpec spec;

    @Mixin
    private ReplayRun replay;

    @Option(names = {"-a", "--allocators"}, split = ",", paramLabel = "NAME", defaultValue = "smalloc,system",
            description = "Allocators to replay on: smalloc, system, jemalloc, mimalloc, tracking:<name> (default: ${DEFAULT-VALUE}).")
    private List<String> allocators;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Write replay.json, summary.csv, series.csv and waste.csv into DIR.")
    private Path output;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Optional<ReplayRun.Replayed> replayed = replay.run(allocators, null);
        if (replayed.isEmpty()) {
            return 1;
        }
        if (output != null) {
            PrintWriter out = spec.commandLine().getOut();
            for (Path file : ReplayOutput.write(output, replayed.get().report())) {
                out.println("wrote " + file);
            }
            out.flush();
        }
        return 0;
    }
}
