package org.smalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.smalloc4j.TraceReader;
import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.ReplayJson;
import org.smalloc4j.tools.replay.ReplayReport;

/**
 * {@code smalloc4j record} and {@code smalloc4j replay} end to end: a recorded workload replayed on
 * two allocators, each in a child JVM, with the same peak live bytes and the files written.
 */
class ReplayCommandTest {

    @TempDir
    Path dir;

    private final CommandUnderTest command = new CommandUnderTest();

    private int execute(String... args) {
        return command.execute(args);
    }

    private Path record() throws IOException {
        Path trace = command.recordMixed(dir);
        assertTrue(command.output().contains("recorded " + trace + ": mixed, 2 threads x 3000 ops on smalloc"), command.output());
        try (TraceReader reader = TraceReader.open(trace)) {
            while (reader.next() != null) {
                // to the end
            }
            assertTrue(reader.complete(), "record closes its trace");
        }
        return trace;
    }

    @Test
    void replayInChildJvmsGivesTheSamePeakOnEveryAllocatorAndWritesTheTables() throws IOException {
        Path trace = record();
        Path output = dir.resolve("out");
        assertEquals(0, execute("replay", trace.toString(), "--allocators", "smalloc,system", "--warmup", "0",
                "--repeat", "1", "--sample-every", "100", "--output", output.toString()), command.output());

        ReplayReport report = ReplayJson.readReport(output.resolve("replay.json"));
        assertEquals(List.of("smalloc", "system"), report.allocators().stream().map(AllocatorReplay::allocator).toList());
        long peak = report.trace().peakLiveBytes();
        assertTrue(peak > 0);
        for (AllocatorReplay replay : report.allocators()) {
            assertEquals(peak, replay.peakLiveBytes(), replay.allocator());
            assertTrue(replay.rssAtStartBytes() > 0, "the child read its VmRSS");
            assertEquals(1, replay.passNanos().size());
            assertTrue(replay.usableSizeKnown());
        }
        assertTrue(command.output().contains("peak live bytes: " + peak + " on every allocator"), command.output());
        assertTrue(command.output().contains("2 threads (replayed on one thread, in trace order)"), command.output());

        List<String> summary = Files.readAllLines(output.resolve("summary.csv"));
        assertEquals(3, summary.size(), "a header and two allocators");
        assertTrue(summary.get(1).startsWith("smalloc," + report.trace().operations() + ","), summary.get(1));
        List<String> series = Files.readAllLines(output.resolve("series.csv"));
        assertEquals("allocator,op,live_bytes,rss_growth_bytes", series.getFirst());
        assertTrue(series.stream().anyMatch(line -> line.startsWith("system,") && line.contains("," + peak + ",")),
                "the exact peak is sampled");
        assertTrue(Files.readAllLines(output.resolve("waste.csv")).size() > 2);
    }

    @Test
    void aFailingChildIsReportedWithItsReason() throws IOException {
        Path trace = record();
        assertEquals(1, execute("replay", trace.toString(), "--allocators", "no-such-allocator", "--repeat", "1"));
        assertTrue(command.output().contains("replay on 'no-such-allocator' failed in its own JVM (exit code 1)"),
                command.output());
        assertTrue(command.output().contains("no-such-allocator"), command.output());
    }

    @Test
    void aCorruptTraceIsReportedWithFileAndOffset() throws IOException {
        Path trace = record();
        byte[] bytes = Files.readAllBytes(trace);
        Path cut = dir.resolve("cut.trace");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 3));
        assertEquals(1, execute("replay", cut.toString()));
        assertTrue(command.output().contains("smalloc4j replay: " + cut + ": the trace is cut short at byte "), command.output());
    }

    @Test
    void badOptionsAreRejected() throws IOException {
        assertEquals(2, execute("replay", dir.resolve("missing.trace").toString()));
        assertTrue(command.output().contains("missing.trace is not a readable file"), command.output());
        Path trace = record();
        assertEquals(2, execute("replay", trace.toString(), "--repeat", "0"));
        assertEquals(2, execute("record", "--workload", "nonesuch", "--output", dir.resolve("x.trace").toString()));
        assertTrue(command.output().contains("unknown workload 'nonesuch'"), command.output());
    }
}
