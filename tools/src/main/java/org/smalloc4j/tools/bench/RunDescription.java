package org.smalloc4j.tools.bench;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a bench run was asked to do and where it ran: written beside the results, so that a file of
 * figures says how to reproduce them.
 *
 * @param started when the run began
 * @param arguments the arguments after {@code smalloc4j}, subcommand included
 * @param allocators the allocators that ran, in table order
 * @param skippedAllocators allocators of the default list that could not load, with the reason
 * @param workloads the workload names asked for
 * @param threads the thread counts asked for
 * @param sizes the block sizes of the pairs workload
 * @param mixedSlots the live-block window per thread of the mixed workload
 * @param settings how each case was timed
 * @param peakRssUnavailable why peak RSS could not be measured; empty when it was
 * @param failure why the run stopped early; empty when it ran to the end
 */
public record RunDescription(Instant started, List<String> arguments, List<String> allocators,
        Map<String, String> skippedAllocators, List<String> workloads, List<Integer> threads, List<Long> sizes,
        int mixedSlots, BenchSettings settings, Optional<String> peakRssUnavailable, Optional<String> failure) {

    public RunDescription {
        arguments = List.copyOf(arguments);
        allocators = List.copyOf(allocators);
        skippedAllocators = Collections.unmodifiableMap(new LinkedHashMap<>(skippedAllocators)); // keeps the order
        workloads = List.copyOf(workloads);
        threads = List.copyOf(threads);
        sizes = List.copyOf(sizes);
    }

    /** The command that reproduces the run. */
    public String commandLine() {
        return "smalloc4j " + String.join(" ", arguments);
    }

    /** The same run, stopped early by {@code reason}. */
    public RunDescription failed(String reason) {
        return new RunDescription(started, arguments, allocators, skippedAllocators, workloads, threads, sizes,
                mixedSlots, settings, peakRssUnavailable, Optional.of(reason));
    }
}
