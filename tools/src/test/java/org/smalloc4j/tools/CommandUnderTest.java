package org.smalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import picocli.CommandLine;

/**
 * Runs {@code smalloc4j} subcommands in the test's JVM, standard output and error captured together,
 * for the tests of the commands that replay traces.
 */
final class CommandUnderTest {

    private final StringWriter out = new StringWriter();

    /** Runs {@code smalloc4j args...} and returns its exit code. */
    int execute(String... args) {
        CommandLine commandLine = Smalloc4j.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(out, true));
        return commandLine.execute(args);
    }

    /** Everything the commands run so far printed. */
    String output() {
        return out.toString();
    }

    /**
     * Records bench's mixed workload, 2 threads × 3000 operations on 200 slots each (sizes from 8 B to
     * 256 KiB, some reallocs), into {@code folder/mixed.trace}.
     */
    Path recordMixed(Path folder) {
        Path trace = folder.resolve("mixed.trace");
        assertEquals(0, execute("record", "--workload", "mixed", "--ops", "3000", "--threads", "2", "--slots", "200",
                "--output", trace.toString()), output());
        return trace;
    }
}
