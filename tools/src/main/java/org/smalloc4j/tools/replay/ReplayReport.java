package org.smalloc4j.tools.replay;

import java.util.List;

/**
 * The result of {@code smalloc4j replay}: one trace replayed on several allocators, each in its own
 * JVM. Written to {@code replay.json} ({@link ReplayOutput#write}); {@code smalloc4j report} draws it.
 *
 * @param command the command line that reproduces the run
 * @param trace the trace, counted from the trace alone
 * @param settings passes, sampling and threads of every allocator's replay
 * @param allocators one result per allocator, in the order asked for
 */
public record ReplayReport(String command, TraceSummary trace, ReplaySettings settings,
        List<AllocatorReplay> allocators) {

    public ReplayReport {
        allocators = List.copyOf(allocators);
    }
}
