package org.smalloc4j.tools;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.SystemAllocator;
import org.smalloc4j.tools.bench.PeakRss;

import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line: usage, option errors, and tiny bench runs (no timing is checked). */
class Smalloc4jTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path results;

    private int execute(String... args) {
        CommandLine commandLine = Smalloc4j.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    @Test
    void aloneItPrintsUsageAndFails() {
        assertEquals(2, execute());
        assertTrue(err.toString().contains("Usage: smalloc4j"), err.toString());
        assertTrue(err.toString().contains("bench"), err.toString());
    }

    @Test
    void benchHelpListsItsOptions() {
        assertEquals(0, execute("bench", "--help"));
        for (String option : new String[] {"--allocators", "--threads", "--workloads", "--ops", "--duration", "--seed",
                "--output", "--no-progress"}) {
            assertTrue(out.toString().contains(option), option + " missing from\n" + out);
        }
    }

    @Test
    void benchHelpListsEveryWorkloadOnOneLine() {
        assertEquals(0, execute("bench", "--help"));
        String help = out.toString();
        for (String name : org.smalloc4j.tools.bench.Workloads.NAMES) {
            long lines = help.lines().filter(line -> line.matches("  " + java.util.regex.Pattern.quote(name) + " +\\S.*")).count();
            assertEquals(1, lines, name + " should have one line in\n" + help);
        }
        assertTrue(help.lines().allMatch(line -> line.length() <= 100), "a line wraps (usageHelpWidth 100) in\n" + help);
    }

    @Test
    void singleThreadedWorkloadsSkipLargerThreadCounts() {
        assertEquals(0, execute("bench", "--workloads", "glibc-simple,larson", "--ops", "1000", "--warmup", "1ms",
                "--rounds", "1", "--threads", "1,2", "--allocators", "smalloc,system", "--output", results.toString()),
                err.toString());
        String table = out.toString();
        assertEquals(2, table.lines().filter(line -> line.startsWith("glibc-simple ")).count(), table);
        assertEquals(4, table.lines().filter(line -> line.startsWith("larson ")).count(), table);
    }

    @Test
    void unknownNamesAreRejectedListingTheKnownOnes() {
        assertEquals(2, execute("bench", "--allocators", "smalloc,tcmalloc"));
        assertTrue(err.toString().contains("unknown allocator 'tcmalloc'; known: smalloc, system"), err.toString());
        assertEquals(2, execute("bench", "--workloads", "larsen"));
        assertTrue(err.toString().contains("unknown workload 'larsen'"), err.toString());
        assertEquals(2, execute("bench", "--threads", "0"));
        assertEquals(2, execute("bench", "--duration", "fast"));
    }

    @Test
    void tinyBenchPrintsOneRowPerCase() {
        int exitCode = execute("bench", "--ops", "2000", "--warmup", "1ms", "--rounds", "2", "--workloads", "pairs,mixed",
                "--allocators", "smalloc,system", "--threads", "1,2", "--sizes", "16,65536", "--slots", "100",
                "--output", results.toString());
        assertEquals(0, exitCode, err.toString());
        String table = out.toString();
        assertTrue(table.contains("command: smalloc4j bench --ops 2000"), table);
        long rows = table.lines().filter(line -> line.matches("(pairs|mixed) .*")).count();
        assertEquals(3 * 2 * 2, rows, table); // (2 sizes + mixed) x 2 thread counts x 2 allocators
        assertTrue(table.lines().anyMatch(line -> line.matches("pairs +2 +65536 +system .*")), table);
        // in each group one row, the fastest, has ratio 1.00 and the star
        assertEquals(2 * 3, table.lines().filter(line -> line.matches("(pairs|mixed) .* 1\\.00 \\* .*")).count(), table);
    }

    @Test
    void helpSaysWhatPeakRssMeansAndItsLimits() {
        assertEquals(0, execute("bench", "--help"));
        String help = out.toString().replaceAll("\\s+", " ");
        for (String phrase : new String[] {"/proc/self/clear_refs", "VmHWM", "Java heap", "n/a", "results.csv",
                "ratio = ns/op / the fastest ns/op"}) {
            assertTrue(help.contains(phrase), phrase + " missing from\n" + out);
        }
    }

    /** One table row: workload, threads, size, allocator, ns/op, …, ratio (and maybe *), RSS. */
    private record TableRow(String workload, int threads, String size, String allocator, String nsPerOp, String ratio,
            boolean best, String rss) {
        static TableRow parse(String line) {
            String[] words = line.trim().split(" +");
            boolean best = words.length == 10;
            return new TableRow(words[0], Integer.parseInt(words[1]), words[2], words[3], words[4], words[7], best,
                    words[words.length - 1]);
        }
    }

    @Test
    void filesHoldWhatTheTableShows() throws Exception {
        assertEquals(0, execute("bench", "--ops", "1000", "--warmup", "1ms", "--rounds", "3", "--workloads",
                "pairs,xmalloc", "--allocators", "smalloc,system", "--sizes", "64", "--output", results.toString()),
                err.toString());
        List<TableRow> table = out.toString().lines().filter(line -> line.matches("(pairs|xmalloc) .*"))
                .map(TableRow::parse).toList();
        assertEquals(2 * 2 * 2, table.size(), out.toString());

        List<String> csv = Files.readAllLines(results.resolve("results.csv"));
        assertEquals(table.size() + 1, csv.size());
        for (int i = 0; i < table.size(); i++) {
            TableRow row = table.get(i);
            String[] fields = csv.get(i + 1).split(",");
            assertEquals(List.of(row.workload(), row.size(), Integer.toString(row.threads()), row.allocator()),
                    List.of(fields[0], fields[1], fields[2], fields[3]));
            assertEquals(row.nsPerOp(), String.format(Locale.ROOT, "%.1f", Double.parseDouble(fields[4])));
            assertEquals(row.ratio(), String.format(Locale.ROOT, "%.2f", Double.parseDouble(fields[7])));
            assertEquals(row.best(), Boolean.parseBoolean(fields[8]));
            assertEquals(row.rss().equals("n/a"), fields[9].equals("n/a"));
        }

        JsonNode json = new ObjectMapper().readTree(results.resolve("results.json").toFile());
        String commandLine = out.toString().lines().filter(line -> line.startsWith("command: ")).findFirst().orElseThrow();
        assertEquals(commandLine, "command: " + json.get("command").asText());
        assertEquals(table.size(), json.get("results").size());
        for (String chart : new String[] {"pairs.svg", "pairs.png", "xmalloc.svg", "xmalloc.png"}) {
            assertTrue(Files.size(results.resolve(chart)) > 1000, chart);
        }
        String rssChart = PeakRss.ofThisProcess().available() ? ", peak-rss" : ""; // no figures, no chart
        assertTrue(out.toString().contains("results in " + results + ": results.csv, results.json, charts pairs,"
                + " xmalloc" + rssChart + " (.svg and .png)"), out.toString());
        // stderr is no terminal here: no progress line, nothing at all
        assertEquals("", err.toString());
    }

    /** Loads "system" under any name it is given; "missing" cannot be loaded; others are unknown. */
    private static NativeAllocator fakeLoader(String name) {
        return switch (name) {
            case "missing" -> throw new IllegalStateException("allocator 'missing' cannot be loaded: no library");
            case "smalloc", "system" -> new SystemAllocator();
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "'");
        };
    }

    @Test
    void defaultAllocatorsThatCannotLoadAreSkippedSayingWhy() {
        Map<String, String> skipped = new LinkedHashMap<>();
        Map<String, NativeAllocator> loaded = BenchCommand.loadAllocators(List.of("smalloc", "missing", "system"),
                false, Smalloc4jTest::fakeLoader, skipped);
        assertEquals(List.of("smalloc", "system"), new ArrayList<>(loaded.keySet()));
        assertEquals(Map.of("missing", "allocator 'missing' cannot be loaded: no library"), skipped);
    }

    @Test
    void namedAllocatorsThatCannotLoadAreAnError() {
        Map<String, String> skipped = new LinkedHashMap<>();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> BenchCommand.loadAllocators(
                List.of("smalloc", "missing"), true, Smalloc4jTest::fakeLoader, skipped));
        assertTrue(e.getMessage().contains("no library"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BenchCommand.loadAllocators(
                List.of("tcmalloc"), false, Smalloc4jTest::fakeLoader, skipped));
        IllegalStateException none = assertThrows(IllegalStateException.class, () -> BenchCommand.loadAllocators(
                List.of("missing"), false, Smalloc4jTest::fakeLoader, new LinkedHashMap<>()));
        assertTrue(none.getMessage().contains("none of the allocators missing can be loaded"), none.getMessage());
        assertEquals(1, BenchCommand.loadAllocators(List.of("system", "system"), true, Smalloc4jTest::fakeLoader,
                skipped).size());
    }

    @Test
    void anOutputThatCannotBeAFolderIsRefused() throws Exception {
        Path file = Files.writeString(results.resolve("a-file"), "");
        assertEquals(2, execute("bench", "--output", file.resolve("below").toString(), "--ops", "10"));
        assertTrue(err.toString().contains("--output: cannot make folder"), err.toString());
        assertFalse(err.toString().contains("Exception in"), err.toString());
    }

    @Test
    void durationsReadAsPeopleWriteThem() {
        DurationConverter converter = new DurationConverter();
        assertEquals(Duration.ofMillis(150), converter.convert("150ms"));
        assertEquals(Duration.ofMillis(1500), converter.convert("1.5s"));
        assertEquals(Duration.ofNanos(500_000), converter.convert("500us"));
        assertEquals(Duration.ofMinutes(2), converter.convert("2m"));
        assertThrows(CommandLine.TypeConversionException.class, () -> converter.convert("150"));
        assertEquals("150 ms", DurationConverter.format(Duration.ofMillis(150)));
        assertEquals("2 s", DurationConverter.format(Duration.ofSeconds(2)));
    }
}
