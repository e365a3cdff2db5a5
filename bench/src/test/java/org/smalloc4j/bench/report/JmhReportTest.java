package org.smalloc4j.bench.report;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JmhReportTest {

    /** One entry as JMH 1.37 writes it (the fields the report reads, and some it ignores). */
    private static String entry(String benchmark, String mode, int threads, String params, double score, String error,
            String unit, String gcNorm) {
        String secondary = gcNorm == null ? "{}" : """
                { "gc.alloc.rate" : { "score" : 1200.5, "scoreError" : 3.0, "scoreUnit" : "MB/sec" },
                  "gc.alloc.rate.norm" : { "score" : %s, "scoreError" : 0.001, "scoreUnit" : "B/op" } }""".formatted(gcNorm);
        return """
                { "jmhVersion" : "1.37", "benchmark" : "org.smalloc4j.bench.%s", "mode" : "%s", "threads" : %d,
                  "forks" : 1, "jvmArgs" : [ "--enable-native-access=ALL-UNNAMED" ], "params" : { %s },
                  "primaryMetric" : { "score" : %s, "scoreError" : %s, "scoreConfidence" : [ 0, 1 ],
                                      "scoreUnit" : "%s", "rawData" : [ [ 1.0, 2.0 ] ] },
                  "secondaryMetrics" : %s }""".formatted(benchmark, mode, threads, params, score, error, unit, secondary);
    }

    private static final String RUN = "[" + String.join(",",
            entry("AllocFreeBenchmark.pair1T", "avgt", 1, "\"size\" : \"4096\", \"allocator\" : \"system\"", 30.0, "3.0", "ns/op", "0.003"),
            entry("AllocFreeBenchmark.pair1T", "avgt", 1, "\"size\" : \"16\", \"allocator\" : \"smalloc\"", 18.34, "1.07", "ns/op", "0.001"),
            entry("AllocFreeBenchmark.pair1T", "avgt", 1, "\"size\" : \"16\", \"allocator\" : \"system\"", 11.9, "0.9", "ns/op", "0.002"),
            entry("AllocFreeBenchmark.pair1T", "avgt", 1, "\"size\" : \"4096\", \"allocator\" : \"smalloc\"", 18.8, "1.8", "ns/op", "0.0"),
            entry("AllocFreeBenchmark.ffmPair1T", "avgt", 1, "\"size\" : \"1048576\", \"allocator\" : \"smalloc\"", 13340.4, "\"NaN\"", "ns/op", "40.0"),
            entry("BaselineBenchmark.ffmPair1T", "avgt", 1, "\"size\" : \"1048576\", \"allocator\" : \"direct-buffer\"", 1.607, "0.2", "ms/op", "172.46"),
            entry("SharedArenaBenchmark.close", "ss", 1, "\"blocks\" : \"256\", \"size\" : \"16\"", 88.8, "13.9", "us/op", "29449.6"))
            + "]";

    @Test
    void rowsAreCasesColumnsAllocatorsWithTheRatioToSmalloc() {
        String markdown = new JmhReport("allocator", "smalloc").markdown(JmhResult.parse(RUN, "run.json"));
        assertEquals("""
                ns/op ± 99.9 % confidence half-width (µs or ms where marked); (1.6x): time / smalloc's time in the same row, above 1 smalloc is faster

                | case | smalloc | system | direct-buffer |
                |---|---:|---:|---:|
                | pair1T 16 B | 18.3 ± 1.1 | 11.9 ± 0.9 (0.65x) |  |
                | pair1T 4 KiB | 18.8 ± 1.8 | 30.0 ± 3.0 (1.60x) |  |
                | ffmPair1T 1 MiB | 13.3 µs |  | 1.61 ± 0.20 ms (120x) |

                Java heap allocated per operation, B/op (-prof gc)

                | case | smalloc | system | direct-buffer |
                |---|---:|---:|---:|
                | pair1T 16 B | 0 | 0 |  |
                | pair1T 4 KiB | 0 | 0 |  |
                | ffmPair1T 1 MiB | 40 |  | 172 |

                | benchmark | ns/op | B/op |
                |---|---:|---:|
                | SharedArenaBenchmark.close blocks=256 16 B | 88.8 ± 13.9 µs | 29450 |
                """, markdown);
    }

    @Test
    void methodsAndColumnsCanBeChosenAndOrdered() {
        JmhReport report = new JmhReport("allocator", "smalloc", List.of("ffmPair1T", "pair1T"), List.of("direct-buffer", "smalloc"));
        assertEquals("""
                ns/op ± 99.9 % confidence half-width (µs or ms where marked); (1.6x): time / smalloc's time in the same row, above 1 smalloc is faster

                | case | direct-buffer | smalloc |
                |---|---:|---:|
                | ffmPair1T 1 MiB | 1.61 ± 0.20 ms (120x) | 13.3 µs |
                | pair1T 16 B |  | 18.3 ± 1.1 |
                | pair1T 4 KiB |  | 18.8 ± 1.8 |
                """, report.markdown(JmhResult.parse(RUN, "run.json")).split("\n\nJava heap")[0] + "\n");
        String onlyClose = new JmhReport("allocator", "smalloc", List.of("close"), List.of()).markdown(JmhResult.parse(RUN, "run.json"));
        assertEquals("""
                | benchmark | ns/op | B/op |
                |---|---:|---:|
                | SharedArenaBenchmark.close blocks=256 16 B | 88.8 ± 13.9 µs | 29450 |
                """, onlyClose);
    }

    @Test
    void theCsvHasALinePerResultAndEveryParameter() {
        List<String> lines = JmhReport.csv(JmhResult.parse(RUN, "run.json")).lines().toList();
        assertEquals(8, lines.size());
        assertEquals("benchmark,method,mode,threads,size,allocator,blocks,ns_per_op,error_ns,bytes_per_op", lines.get(0));
        assertEquals("org.smalloc4j.bench.AllocFreeBenchmark.ffmPair1T,ffmPair1T,avgt,1,1048576,smalloc,,13340.400,,40.000",
                lines.get(5));
        assertEquals("org.smalloc4j.bench.BaselineBenchmark.ffmPair1T,ffmPair1T,avgt,1,1048576,direct-buffer,,1607000.000,200000.000,172.460",
                lines.get(6));
        assertEquals("org.smalloc4j.bench.SharedArenaBenchmark.close,close,ss,1,16,,256,88800.000,13900.000,29449.600",
                lines.get(7));
    }

    @Test
    void aResultWithoutProfGcHasNoBytes() {
        String run = "[" + entry("AllocFreeBenchmark.pair2T", "avgt", 2, "\"size\" : \"16\", \"allocator\" : \"smalloc\"", 18.0,
                "1.0", "ns/op", null) + "]";
        JmhResult result = JmhResult.parse(run, "run.json").getFirst();
        assertTrue(Double.isNaN(result.bytesPerOp()));
        assertEquals(Map.of("size", "16", "allocator", "smalloc"), result.params());
        assertEquals(2, result.threads());
        String markdown = new JmhReport("allocator", "smalloc").markdown(List.of(result));
        assertTrue(!markdown.contains("B/op"), markdown);
        assertTrue(markdown.contains("| pair2T 16 B | 18.0 ± 1.0 |"), markdown);
    }

    @Test
    void throughputCannotBeComparedAsTime() {
        String run = "[" + entry("AllocFreeBenchmark.pair1T", "thrpt", 1, "\"allocator\" : \"smalloc\"", 0.05, "0.01", "ops/ns", null) + "]";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JmhResult.parse(run, "run.json"));
        assertEquals("run.json entry 0 (org.smalloc4j.bench.AllocFreeBenchmark.pair1T): the score's unit 'ops/ns' is not a time"
                + " per operation; run the benchmarks with -bm avgt (or ss)", e.getMessage());
    }

    @Test
    void twoResultsForOneCellAreAnError() {
        String one = entry("AllocFreeBenchmark.pair1T", "avgt", 1, "\"size\" : \"16\", \"allocator\" : \"smalloc\"", 18.0, "1.0", "ns/op", null);
        String other = one.replace("AllocFreeBenchmark", "OtherBenchmark");
        List<JmhResult> results = JmhResult.parse("[" + one + "," + other + "]", "run.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JmhReport("allocator", "smalloc").markdown(results));
        assertEquals("two results for allocator 'smalloc' in row 'pair1T 16 B': org.smalloc4j.bench.AllocFreeBenchmark.pair1T"
                + " and org.smalloc4j.bench.OtherBenchmark.pair1T", e.getMessage());
    }

    @Test
    void somethingElseThanJmhOutputIsRejected() {
        assertEquals("notes.json is not JMH's JSON output (-rf json): it is not an array",
                assertThrows(IllegalArgumentException.class, () -> JmhResult.parse("{ \"a\" : 1 }", "notes.json")).getMessage());
        assertEquals("run.json entry 0 has no 'benchmark'",
                assertThrows(IllegalArgumentException.class, () -> JmhResult.parse("[ { } ]", "run.json")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JmhResult.parse("[ {", "cut.json")).getMessage()
                .startsWith("cut.json is not JSON"));
    }

    @Test
    void numbersAreShortAndKeepTheirUnit() {
        assertEquals("5.20", JmhReport.time(5.2, Double.NaN));
        assertEquals("312 ± 40", JmhReport.time(312.4, 40.2));
        assertEquals("9999 ± 120", JmhReport.time(9999, 120));
        assertEquals("52.4 ± 3.1 µs", JmhReport.time(52_410, 3_100));
        assertEquals("1.61 ms", JmhReport.time(1_607_341, Double.NaN));
        assertEquals("0.65x", JmhReport.ratio(0.6502));
        assertEquals("12.3x", JmhReport.ratio(12.34));
        assertEquals("140x", JmhReport.ratio(140.2));
        assertEquals("16 B", JmhReport.size("16"));
        assertEquals("64 KiB", JmhReport.size("65536"));
        assertEquals("1 MiB", JmhReport.size("1048576"));
        assertEquals("1000 B", JmhReport.size("1000"));
        assertEquals("large", JmhReport.size("large"));
    }

    @Test
    void theCommandWritesBothFilesAndRejectsBadUsage(@TempDir Path dir) throws Exception {
        Path json = Files.writeString(dir.resolve("run.json"), RUN);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = JmhReport.run(new String[] {json.toString(), "--markdown", dir.resolve("run.md").toString(), "--csv",
                dir.resolve("run.csv").toString()}, new PrintStream(out), new PrintStream(err));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        assertTrue(Files.readString(dir.resolve("run.md")).contains("| pair1T 16 B |"));
        assertTrue(Files.readString(dir.resolve("run.csv")).startsWith("benchmark,method,"));

        assertEquals(2, JmhReport.run(new String[] {"--markdown"}, new PrintStream(out), new PrintStream(err)));
        assertEquals(2, JmhReport.run(new String[] {json.toString(), "--colour", "red"}, new PrintStream(out), new PrintStream(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown option --colour"));
        assertEquals(1, JmhReport.run(new String[] {dir.resolve("missing.json").toString()}, new PrintStream(out), new PrintStream(err)));
    }
}
