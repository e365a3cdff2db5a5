package org.smalloc4j.tools.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CSV and JSON files read back to exactly the rows and settings of the run. */
class ResultFilesTest {

    @TempDir
    Path folder;

    private static final BenchSettings SETTINGS = new BenchSettings(Duration.ofMillis(300), Duration.ofMillis(150), 0, 3, 42);

    /** Two groups: pairs 16 B on 1 thread (RSS measured) and mixed on 2 threads (RSS not measured). */
    static List<CaseResult> sampleRows() {
        Workload pairs = new AllocFreePairs(16);
        Workload mixed = new MixedWorkload(100);
        List<CaseResult> rows = new ArrayList<>(CaseResult.rankGroup(List.of(
                new Measurement(pairs, "smalloc", 1, new double[] {13.25, 14.5, 13.0}),
                new Measurement(pairs, "system", 1, new double[] {11.125, 12.0, 11.0})),
                List.of(OptionalLong.of(1_572_864), OptionalLong.of(0))));
        rows.addAll(CaseResult.rankGroup(List.of(
                new Measurement(mixed, "smalloc", 2, new double[] {30.0, 31.0, 33.3}),
                new Measurement(mixed, "system", 2, new double[] {40.1, 42.0, 41.7})),
                List.of(OptionalLong.empty(), OptionalLong.empty())));
        return rows;
    }

    private static RunDescription sampleRun() {
        return new RunDescription(Instant.parse("2026-11-23T17:05:12Z"),
                List.of("bench", "--workloads", "pairs,mixed", "--sizes", "16", "--rounds", "3"),
                List.of("smalloc", "system"), Map.of("jemalloc", "allocator 'jemalloc' cannot be loaded: no, \"really\""),
                List.of("pairs", "mixed"), List.of(1, 2), List.of(16L), 100, SETTINGS,
                Optional.empty(), Optional.empty());
    }

    /** Splits one CSV line into fields, undoing RFC 4180 quoting. */
    private static List<String> csvFields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                field.append('"');
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }

    @Test
    void csvHoldsEveryRowWithItsExactFigures() throws Exception {
        List<CaseResult> rows = sampleRows();
        Path file = ResultFiles.writeCsv(folder, rows);
        assertEquals(folder.resolve("results.csv"), file);
        List<String> lines = Files.readAllLines(file);
        assertEquals(rows.size() + 1, lines.size());
        assertEquals(ResultFiles.CSV_COLUMNS, csvFields(lines.getFirst()));
        for (int i = 0; i < rows.size(); i++) {
            CaseResult row = rows.get(i);
            List<String> fields = csvFields(lines.get(i + 1));
            assertEquals(ResultFiles.CSV_COLUMNS.size(), fields.size(), lines.get(i + 1));
            assertEquals(row.workload(), fields.get(0));
            assertEquals(row.size(), fields.get(1));
            assertEquals(row.threads(), Integer.parseInt(fields.get(2)));
            assertEquals(row.allocator(), fields.get(3));
            assertEquals(row.nsPerOp(), Double.parseDouble(fields.get(4)));
            assertEquals(row.opsPerSecond(), Double.parseDouble(fields.get(5)));
            assertEquals(row.spread(), Double.parseDouble(fields.get(6)));
            assertEquals(row.ratioToBest(), Double.parseDouble(fields.get(7)));
            assertEquals(row.best(), Boolean.parseBoolean(fields.get(8)));
            if (row.peakRssGrowthMiB().isPresent()) {
                assertEquals(row.peakRssGrowthMiB().getAsDouble(), Double.parseDouble(fields.get(9)));
            } else {
                assertEquals("n/a", fields.get(9));
            }
            assertEquals(3, Integer.parseInt(fields.get(10)));
            assertArrayEquals(row.measurement().roundNsPerOp(),
                    Arrays.stream(fields.get(11).split(" ")).mapToDouble(Double::parseDouble).toArray());
        }
        // the figures the sample was made with, spelled out once
        assertEquals(List.of("pairs", "16", "1", "smalloc", "13.25"), csvFields(lines.get(1)).subList(0, 5));
        assertEquals("1.5", csvFields(lines.get(1)).get(9));
        assertEquals("true", csvFields(lines.get(2)).get(8));
    }

    @Test
    void csvQuotesFieldsThatNeedIt() {
        assertEquals("8-256K", ResultFiles.csvField("8-256K"));
        assertEquals("\"a,b\"", ResultFiles.csvField("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", ResultFiles.csvField("say \"hi\""));
        assertEquals("say \"hi\"", csvFields(ResultFiles.csvField("say \"hi\"")).getFirst());
    }

    @Test
    void jsonHoldsTheRowsTheSettingsAndTheCommand() throws Exception {
        List<CaseResult> rows = sampleRows();
        Path file = ResultFiles.writeJson(folder, sampleRun(), rows);
        assertEquals(folder.resolve("results.json"), file);
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertEquals("smalloc4j bench --workloads pairs,mixed --sizes 16 --rounds 3", root.get("command").asText());
        assertEquals("2026-11-23T17:05:12Z", root.get("started").asText());
        assertTrue(root.get("failure").isNull());
        JsonNode settings = root.get("settings");
        assertEquals("[\"smalloc\",\"system\"]", settings.get("allocators").toString());
        assertEquals("allocator 'jemalloc' cannot be loaded: no, \"really\"",
                settings.get("skipped_allocators").get("jemalloc").asText());
        assertEquals("[1,2]", settings.get("threads").toString());
        assertEquals(300_000_000L, settings.get("warmup_ns").asLong());
        assertEquals(150_000_000L, settings.get("round_ns").asLong());
        assertEquals(3, settings.get("rounds").asInt());
        assertEquals(42, settings.get("seed").asLong());
        assertEquals(100, settings.get("mixed_slots").asInt());
        assertTrue(root.get("peak_rss").get("measured").asBoolean());
        assertTrue(root.get("environment").get("cpus").asInt() >= 1);

        JsonNode results = root.get("results");
        assertEquals(rows.size(), results.size());
        for (int i = 0; i < rows.size(); i++) {
            CaseResult row = rows.get(i);
            JsonNode result = results.get(i);
            assertEquals(row.workload(), result.get("workload").asText());
            assertEquals(row.size(), result.get("size").asText());
            assertEquals(row.threads(), result.get("threads").asInt());
            assertEquals(row.allocator(), result.get("allocator").asText());
            assertEquals(row.nsPerOp(), result.get("ns_per_op").asDouble());
            assertEquals(row.opsPerSecond(), result.get("ops_per_s").asDouble());
            assertEquals(row.spread(), result.get("spread").asDouble());
            assertEquals(row.ratioToBest(), result.get("ratio_to_best").asDouble());
            assertEquals(row.best(), result.get("best").asBoolean());
            if (row.peakRssGrowthMiB().isPresent()) {
                assertEquals(row.peakRssGrowthMiB().getAsDouble(), result.get("peak_rss_growth_mib").asDouble());
            } else {
                assertTrue(result.get("peak_rss_growth_mib").isNull(), result.toString());
            }
            assertEquals(3, result.get("rounds").asInt());
            double[] rounds = new double[result.get("round_ns_per_op").size()];
            for (int round = 0; round < rounds.length; round++) {
                rounds[round] = result.get("round_ns_per_op").get(round).asDouble();
            }
            assertArrayEquals(row.measurement().roundNsPerOp(), rounds);
        }
    }

    @Test
    void jsonSaysWhyPeakRssOrTheRunIsMissing() throws Exception {
        RunDescription run = sampleRun();
        RunDescription broken = new RunDescription(run.started(), run.arguments(), run.allocators(),
                run.skippedAllocators(), run.workloads(), run.threads(), run.sizes(), run.mixedSlots(),
                new BenchSettings(Duration.ZERO, Duration.ZERO, 5000, 1, 7), Optional.of("cannot write clear_refs"),
                Optional.empty()).failed("larson on 'x' failed");
        JsonNode root = new ObjectMapper().readTree(ResultFiles.writeJson(folder, broken, List.of()).toFile());
        assertEquals("larson on 'x' failed", root.get("failure").asText());
        assertEquals(false, root.get("peak_rss").get("measured").asBoolean());
        assertEquals("cannot write clear_refs", root.get("peak_rss").get("reason").asText());
        assertTrue(root.get("settings").get("round_ns").isNull());
        assertEquals(5000, root.get("settings").get("ops_per_round").asLong());
        assertEquals(0, root.get("results").size());
    }

    @Test
    void defaultFoldersAreNamedAfterTheTimeAndNeverReused() throws Exception {
        Instant started = Instant.parse("2026-11-23T17:05:12.345Z");
        Path first = ResultFiles.timestampedFolder(folder, started);
        assertEquals(folder.resolve("2026-11-23T17-05-12Z"), first);
        Files.createDirectories(first);
        Path second = ResultFiles.timestampedFolder(folder, started);
        assertEquals(folder.resolve("2026-11-23T17-05-12Z-2"), second);
    }
}
