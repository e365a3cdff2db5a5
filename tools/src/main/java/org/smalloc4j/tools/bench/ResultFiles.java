package org.smalloc4j.tools.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Writes a run's results into its output folder: {@value #CSV} (one line per measured row, for
 * spreadsheets and scripts) and {@value #JSON} (the same rows, plus the run's settings, its command
 * line and the machine it ran on).
 *
 * <p>CSV columns, in order: {@link #CSV_COLUMNS}. Numbers are written in full ({@link Double#toString}),
 * so that they read back to the very values measured; {@code spread} is a fraction (0.07 = 7%);
 * {@code peak_rss_growth_mib} is {@code n/a} where it was not measured; {@code round_ns_per_op} holds
 * each round's ns/op, separated by spaces. JSON has the same names, with {@code null} for n/a and an
 * array of rounds.
 */
public final class ResultFiles {

    public static final String CSV = "results.csv";
    public static final String JSON = "results.json";

    /** The CSV header, one name per column. */
    public static final List<String> CSV_COLUMNS = List.of("workload", "size", "threads", "allocator", "ns_per_op",
            "ops_per_s", "spread", "ratio_to_best", "best", "peak_rss_growth_mib", "rounds", "round_ns_per_op");

    /** Folder names of the default output: the start time in UTC, without colons (which some file systems refuse). */
    private static final DateTimeFormatter FOLDER_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss'Z'")
            .withZone(ZoneOffset.UTC);

    private ResultFiles() {
    }

    /**
     * A new folder under {@code base} named after the time: {@code base/2026-11-23T17-05-12Z}, with
     * {@code -2}, {@code -3} … appended when a run of the same second took that name.
     */
    public static Path timestampedFolder(Path base, Instant started) {
        String name = FOLDER_TIME.format(started.truncatedTo(ChronoUnit.SECONDS));
        Path folder = base.resolve(name);
        for (int suffix = 2; Files.exists(folder); suffix++) {
            folder = base.resolve(name + "-" + suffix);
        }
        return folder;
    }

    /** Writes {@value #CSV} into {@code folder} and returns its path. */
    public static Path writeCsv(Path folder, List<CaseResult> rows) throws IOException {
        StringBuilder csv = new StringBuilder(String.join(",", CSV_COLUMNS)).append('\n');
        for (CaseResult row : rows) {
            List<String> fields = List.of(row.workload(), row.size(), Integer.toString(row.threads()), row.allocator(),
                    Double.toString(row.nsPerOp()), Double.toString(row.opsPerSecond()), Double.toString(row.spread()),
                    Double.toString(row.ratioToBest()), Boolean.toString(row.best()),
                    row.peakRssGrowthMiB().isPresent() ? Double.toString(row.peakRssGrowthMiB().getAsDouble()) : "n/a",
                    Integer.toString(row.measurement().roundNsPerOp().length),
                    Arrays.stream(row.measurement().roundNsPerOp()).mapToObj(Double::toString)
                            .collect(Collectors.joining(" ")));
            csv.append(fields.stream().map(ResultFiles::csvField).collect(Collectors.joining(","))).append('\n');
        }
        Path file = folder.resolve(CSV);
        Files.writeString(file, csv, StandardCharsets.UTF_8);
        return file;
    }

    /** A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break. */
    static String csvField(String value) {
        if (value.contains(",") || value.contains("\"") || value.contains("\n") || value.contains("\r")) {
            return '"' + value.replace("\"", "\"\"") + '"';
        }
        return value;
    }

    /** Writes {@value #JSON} into {@code folder} and returns its path. */
    public static Path writeJson(Path folder, RunDescription run, List<CaseResult> rows) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("tool", "smalloc4j bench");
        root.put("started", run.started().toString());
        root.put("command", run.commandLine());
        ArrayNode arguments = root.putArray("arguments");
        run.arguments().forEach(arguments::add);
        run.failure().ifPresentOrElse(reason -> root.put("failure", reason), () -> root.putNull("failure"));

        ObjectNode settings = root.putObject("settings");
        ArrayNode allocators = settings.putArray("allocators");
        run.allocators().forEach(allocators::add);
        ObjectNode skipped = settings.putObject("skipped_allocators");
        run.skippedAllocators().forEach(skipped::put);
        ArrayNode workloads = settings.putArray("workloads");
        run.workloads().forEach(workloads::add);
        ArrayNode threads = settings.putArray("threads");
        run.threads().forEach(threads::add);
        ArrayNode sizes = settings.putArray("sizes");
        run.sizes().forEach(sizes::add);
        settings.put("mixed_slots", run.mixedSlots());
        settings.put("warmup_ns", run.settings().warmup().toNanos());
        if (run.settings().fixedOps()) {
            settings.putNull("round_ns");
        } else {
            settings.put("round_ns", run.settings().roundTime().toNanos());
        }
        settings.put("ops_per_round", run.settings().opsPerRound());
        settings.put("rounds", run.settings().rounds());
        settings.put("seed", run.settings().seed());

        ObjectNode peakRss = root.putObject("peak_rss");
        peakRss.put("measured", run.peakRssUnavailable().isEmpty());
        run.peakRssUnavailable().ifPresentOrElse(reason -> peakRss.put("reason", reason), () -> peakRss.putNull("reason"));
        peakRss.put("meaning", "VmHWM after the case minus VmRSS before it, after resetting VmHWM through"
                + " /proc/self/clear_refs; the whole JVM (Java heap included), in MiB");

        ObjectNode environment = root.putObject("environment");
        environment.put("jdk", Runtime.version().toString());
        environment.put("vm", System.getProperty("java.vm.name"));
        environment.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        environment.put("arch", System.getProperty("os.arch"));
        environment.put("cpus", Runtime.getRuntime().availableProcessors());

        ArrayNode results = root.putArray("results");
        for (CaseResult row : rows) {
            ObjectNode result = results.addObject();
            result.put("workload", row.workload());
            result.put("size", row.size());
            result.put("threads", row.threads());
            result.put("allocator", row.allocator());
            result.put("ns_per_op", row.nsPerOp());
            result.put("ops_per_s", row.opsPerSecond());
            result.put("spread", row.spread());
            result.put("ratio_to_best", row.ratioToBest());
            result.put("best", row.best());
            if (row.peakRssGrowthMiB().isPresent()) {
                result.put("peak_rss_growth_mib", row.peakRssGrowthMiB().getAsDouble());
            } else {
                result.putNull("peak_rss_growth_mib");
            }
            double[] rounds = row.measurement().roundNsPerOp();
            result.put("rounds", rounds.length);
            ArrayNode roundNs = result.putArray("round_ns_per_op");
            Arrays.stream(rounds).forEach(roundNs::add);
        }
        Path file = folder.resolve(JSON);
        Files.writeString(file, mapper.writeValueAsString(root) + "\n", StandardCharsets.UTF_8);
        return file;
    }
}
