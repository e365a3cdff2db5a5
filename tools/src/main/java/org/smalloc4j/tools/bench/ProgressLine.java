package org.smalloc4j.tools.bench;

import java.io.PrintWriter;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar on one self-updating line of stderr: cases done of all, time spent, time left at the
 * pace so far, and the case running now.
 *
 * <pre>
 * [##########..........]  12/56  0:14 elapsed, ~0:51 left  pairs 4096, 2 threads, jemalloc
 * </pre>
 *
 * <p>The table goes to stdout, often to the same terminal: {@link #printAbove} clears the line, lets
 * the caller print, and draws the line again below what was printed, so that a row and the bar never
 * share a line. The line is redrawn only by these calls, on the caller's thread: no timer thread
 * can draw in the middle of a row. (A progress-bar library redraws from a thread of its own, with no
 * hook to step aside while other output is printed.)
 *
 * <p>Off, it prints nothing at all: {@link #forStderr} turns it off when stderr is not a terminal
 * ({@code isatty(2)} is false: a pipe, a file, a test) or when asked.
 */
public final class ProgressLine {

    private static final int BAR_CELLS = 20;

    /** Erase from the cursor to the end of the line (ANSI EL). */
    private static final String ERASE_LINE = "\033[K";

    private final PrintWriter err;
    private final boolean enabled;
    private final int totalCases;
    private final int width;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private int casesDone;
    private String current = "";
    private boolean drawn;

    /**
     * @param err where the line goes (stderr)
     * @param enabled draw at all? when false, every method does nothing
     * @param totalCases the cases of the whole run, at least 1
     * @param width the terminal's width in columns: the line stays shorter, so that it never wraps
     * @param nanoTime the clock (System::nanoTime; tests pass their own)
     */
    ProgressLine(PrintWriter err, boolean enabled, int totalCases, int width, LongSupplier nanoTime) {
        if (totalCases < 1) {
            throw new IllegalArgumentException("total cases " + totalCases + " is below 1");
        }
        if (width < 20) {
            throw new IllegalArgumentException("terminal width " + width + " is below 20 columns");
        }
        this.err = err;
        this.enabled = enabled;
        this.totalCases = totalCases;
        this.width = width;
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    /**
     * The progress line of a run on stderr: on only when stderr is a terminal and {@code wanted}.
     * Its width is {@code $COLUMNS} when set, else 80.
     */
    public static ProgressLine forStderr(PrintWriter err, boolean wanted, int totalCases) {
        return new ProgressLine(err, wanted && stderrIsTerminal(), totalCases, terminalWidth(System.getenv("COLUMNS")),
                System::nanoTime);
    }

    /** Is the line drawn at all? */
    public boolean enabled() {
        return enabled;
    }

    /** A case starts: the line shows it. */
    public synchronized void startCase(String description) {
        current = description;
        draw();
    }

    /** The case shown is done. */
    public synchronized void caseDone() {
        casesDone = Math.min(casesDone + 1, totalCases);
        draw();
    }

    /**
     * Runs {@code print} with the line cleared (the printing must end its last line), then draws the
     * line again. Output to stdout must be flushed inside {@code print}.
     */
    public synchronized void printAbove(Runnable print) {
        clear();
        print.run();
        draw();
    }

    /** The run is over: clears the line for good. */
    public synchronized void finish() {
        clear();
        current = "";
    }

    private void clear() {
        if (enabled && drawn) {
            err.print("\r" + ERASE_LINE);
            err.flush();
            drawn = false;
        }
    }

    private void draw() {
        if (!enabled) {
            return;
        }
        err.print("\r" + line() + ERASE_LINE);
        err.flush();
        drawn = true;
    }

    /** The text of the line, shorter than the terminal is wide. */
    String line() {
        int filled = casesDone * BAR_CELLS / totalCases;
        long elapsedSeconds = (nanoTime.getAsLong() - startNanos) / 1_000_000_000L;
        String left = casesDone == 0 ? "" : ", ~" + clock(elapsedSeconds * (totalCases - casesDone) / casesDone) + " left";
        String text = String.format(Locale.ROOT, "[%s%s] %3d/%d  %s elapsed%s  %s", "#".repeat(filled),
                ".".repeat(BAR_CELLS - filled), casesDone, totalCases, clock(elapsedSeconds), left, current);
        return text.length() < width ? text : text.substring(0, width - 1);
    }

    private static String clock(long seconds) {
        return String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    /** {@code $COLUMNS} when it is a sensible number, else 80. */
    static int terminalWidth(String columns) {
        if (columns != null && columns.matches("\\d{2,4}")) {
            int value = Integer.parseInt(columns);
            if (value >= 20) {
                return value;
            }
        }
        return 80;
    }

    /** Is file descriptor 2 a terminal? libc's {@code isatty} through FFM; false if it cannot be asked. */
    public static boolean stderrIsTerminal() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle isatty = linker.downcallHandle(linker.defaultLookup().findOrThrow("isatty"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) isatty.invokeExact(2) == 1;
        } catch (Throwable e) { // no libc symbol, no native access: no terminal we can know of
            return false;
        }
    }
}
