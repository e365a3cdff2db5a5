package org.smalloc4j.tools;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line: usage, option errors, and a tiny bench run (no timing is checked). */
class Smalloc4jTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

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
        for (String option : new String[] {"--allocators", "--threads", "--workloads", "--ops", "--duration", "--seed"}) {
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
                "--rounds", "1", "--threads", "1,2"), err.toString());
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
        int exitCode = execute("bench", "--ops", "2000", "--warmup", "1ms", "--rounds", "2",
                "--threads", "1,2", "--sizes", "16,65536", "--slots", "100");
        assertEquals(0, exitCode, err.toString());
        String table = out.toString();
        assertTrue(table.contains("command: smalloc4j bench --ops 2000"), table);
        long rows = table.lines().filter(line -> line.matches("(pairs|mixed) .*")).count();
        assertEquals(3 * 2 * 2, rows, table); // (2 sizes + mixed) x 2 thread counts x 2 allocators
        assertTrue(table.lines().anyMatch(line -> line.matches("pairs +2 +65536 +system .*")), table);
        assertTrue(table.lines().anyMatch(line -> line.matches("mixed +1 +8-256K +smalloc .* 1\\.00")), table);
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
