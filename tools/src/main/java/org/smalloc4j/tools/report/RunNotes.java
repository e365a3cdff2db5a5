package org.smalloc4j.tools.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a report says about its run beyond the results: the program behind the trace, when and where
 * it ran, and how busy the machine was, since timings on a busy machine are noisy.
 *
 * @param program what recorded the trace, as the user described it; empty when not given
 * @param started when the run began
 * @param cpus processors available to the JVM
 * @param loadAtStart the load averages over 1, 5 and 15 minutes when the run began
 *        ({@code /proc/loadavg}); empty where unknown
 * @param loadAtEnd the same when the replays were done
 * @param jvm the JVM's version and name
 * @param skipped allocators of the default list that could not load here, with the reason
 */
public record RunNotes(Optional<String> program, Instant started, int cpus, Optional<String> loadAtStart,
        Optional<String> loadAtEnd, String jvm, Map<String, String> skipped) {

    private static final Path LOAD_AVERAGE = Path.of("/proc/loadavg");

    public RunNotes {
        skipped = Collections.unmodifiableMap(new LinkedHashMap<>(skipped)); // in the order given
    }

    /** The first three fields of {@code /proc/loadavg} ("1.52 0.98 0.71"), or empty where it cannot be read. */
    public static Optional<String> loadAverage() {
        try {
            String[] fields = Files.readString(LOAD_AVERAGE, StandardCharsets.US_ASCII).trim().split("\\s+");
            return fields.length < 3 ? Optional.empty() : Optional.of(fields[0] + " " + fields[1] + " " + fields[2]);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The JVM as the page names it: "25.0.1+8 (OpenJDK 64-Bit Server VM)". */
    public static String thisJvm() {
        return Runtime.version() + " (" + System.getProperty("java.vm.name") + ")";
    }

    /**
     * Was the machine busy when the run began: a one-minute load average of half the processors or
     * more, while a replay keeps one processor busy by itself?
     */
    public boolean busy() {
        return loadAtStart.map(load -> Double.parseDouble(load.split(" ")[0]) >= cpus / 2.0).orElse(false);
    }
}
