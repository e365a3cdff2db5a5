package org.smalloc4j.tools.bench;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The progress line: silent when off, and never on the same line as the rows printed above it. */
class ProgressLineTest {

    private final StringWriter err = new StringWriter();
    private final AtomicLong clock = new AtomicLong();

    private ProgressLine line(boolean enabled, int totalCases, int width) {
        return new ProgressLine(new PrintWriter(err), enabled, totalCases, width, clock::get);
    }

    @Test
    void offWhenStderrIsNotATerminal() {
        // surefire pipes the test JVM's stderr: not a terminal, so even a wanted line stays off
        assertFalse(ProgressLine.stderrIsTerminal());
        ProgressLine progress = ProgressLine.forStderr(new PrintWriter(err), true, 4);
        assertFalse(progress.enabled());
        progress.startCase("pairs 16, 1 thread, smalloc");
        progress.caseDone();
        progress.printAbove(() -> { });
        progress.finish();
        assertEquals("", err.toString());
    }

    @Test
    void offWhenNotWantedPrintsNothingButStillRunsWhatIsPrintedAbove() {
        ProgressLine progress = line(false, 4, 80);
        progress.startCase("pairs");
        StringBuilder printed = new StringBuilder();
        progress.printAbove(() -> printed.append("row"));
        progress.finish();
        assertEquals("row", printed.toString());
        assertEquals("", err.toString());
    }

    @Test
    void showsCasesDoneTimeAndTheRunningCase() {
        ProgressLine progress = line(true, 4, 120);
        progress.startCase("pairs 16, 1 thread, smalloc");
        assertEquals("[....................]   0/4  0:00 elapsed  pairs 16, 1 thread, smalloc", progress.line());
        clock.set(30_000_000_000L);
        progress.caseDone();
        assertEquals("[#####...............]   1/4  0:30 elapsed, ~1:30 left  pairs 16, 1 thread, smalloc",
                progress.line());
        assertTrue(err.toString().startsWith("\r[....................]   0/4"), err.toString());
        assertTrue(err.toString().endsWith("\033[K"), "each drawing erases what an older, longer one left");
    }

    @Test
    void rowsPrintedAboveNeverShareTheLine() {
        ProgressLine progress = line(true, 2, 80);
        progress.startCase("mixed");
        err.getBuffer().setLength(0);
        progress.printAbove(() -> err.append("ROW\n")); // stands in for stdout on the same terminal
        String text = err.toString();
        assertTrue(text.startsWith("\r\033[KROW\n\r["), text);
        progress.finish();
        assertTrue(err.toString().endsWith("\r\033[K"), "finish leaves an empty line");
    }

    @Test
    void theLineNeverWraps() {
        ProgressLine progress = line(true, 3, 40);
        progress.startCase("x".repeat(200));
        assertEquals(39, progress.line().length());
    }

    @Test
    void widthComesFromColumnsWhenSensible() {
        assertEquals(132, ProgressLine.terminalWidth("132"));
        assertEquals(80, ProgressLine.terminalWidth(null));
        assertEquals(80, ProgressLine.terminalWidth("wide"));
        assertEquals(80, ProgressLine.terminalWidth("10"));
    }

    @Test
    void badSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> line(true, 0, 80));
        assertThrows(IllegalArgumentException.class, () -> line(true, 3, 5));
    }
}
