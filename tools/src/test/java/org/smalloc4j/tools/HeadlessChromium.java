package org.smalloc4j.tools;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.smalloc4j.tools.heapmap.PageErrorHook;

/**
 * Opens a local HTML page in real headless Chromium, for tests of the pages the tools write (the heap
 * map, the report): one browser run per {@link #load}, which dumps the DOM after the page's scripts
 * ran, takes a screenshot, and collects the console.
 *
 * <p>Errors come from two places. Chromium's log on stderr ({@code --enable-logging=stderr}) has a
 * {@code CONSOLE} line per console message, but for ordinary pages it logs every level as INFO, so
 * {@link Page#consoleErrors()} keeps the lines that are errors by their text (uncaught exceptions,
 * resources that failed to load, blocked loads) or by a log level of ERROR. The rest, including
 * {@code console.error} calls, the page reports itself through {@link PageErrorHook} in its head,
 * which writes them into the DOM: {@link Page#pageErrors()}.
 *
 * <p>A run cannot hang a test: it ends after a time limit, and then every process of the browser
 * that was seen is killed.
 *
 * <p>Chromium comes from Debian's {@code chromium} package, which {@code .ci/install-libs} installs.
 * {@link #require()} fails when it is missing in CI ({@code CI=true}) and skips the test, saying
 * why, elsewhere.
 */
public final class HeadlessChromium {

    /** Longest a page may take to load, render and be dumped; a healthy run takes about a second. */
    public static final Duration TIME_LIMIT = Duration.ofSeconds(45);

    /** Commands tried, in order, on the PATH. */
    private static final List<String> COMMANDS = List.of("chromium", "chromium-browser", "google-chrome",
            "google-chrome-stable");

    /** {@code [pid:tid:date:LEVEL:CONSOLE:line] "message", source: url (line)}; older builds write CONSOLE(line). */
    private static final Pattern CONSOLE_LINE = Pattern.compile(
            "^\\[[^\\]]*:([A-Z0-9]+):CONSOLE(?::\\d+|\\(\\d+\\))] \"(.*)\", source: (.*)$");

    /** Console messages that are errors whatever level Chromium logged them at. */
    private static final Pattern ERROR_MESSAGE = Pattern.compile(
            "^(Uncaught|Failed to load resource|Refused to|Not allowed to load|Access to .* has been blocked).*");

    private static final Pattern ERROR_COUNT = Pattern.compile(
            "<html[^>]*\\s" + Pattern.quote(PageErrorHook.COUNT_ATTRIBUTE) + "=\"(\\d+)\"");

    private static final Pattern ERROR_LIST = Pattern.compile(
            "<ol id=\"" + Pattern.quote(PageErrorHook.LIST_ID) + "\"[^>]*>(.*?)</ol>", Pattern.DOTALL);

    private static final Pattern LIST_ITEM = Pattern.compile("<li>(.*?)</li>", Pattern.DOTALL);

    /** Has a skip been printed? Once per test run is enough. */
    private static volatile boolean skipReported;

    private final Path executable;

    private HeadlessChromium(Path executable) {
        this.executable = executable;
    }

    /** A Chromium command on the PATH, if there is one. */
    public static Optional<Path> find() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String command : COMMANDS) {
            for (String directory : path.split(File.pathSeparator)) {
                if (directory.isEmpty()) {
                    continue;
                }
                Path candidate = Path.of(directory, command);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Chromium, or a failed test in CI, or a skipped test elsewhere (the reason printed to stdout and
     * given to JUnit).
     */
    public static HeadlessChromium require() {
        Optional<Path> found = find();
        if (found.isPresent()) {
            return new HeadlessChromium(found.get());
        }
        String why = "no Chromium on the PATH (looked for " + String.join(", ", COMMANDS)
                + "); .ci/install-libs installs Debian's chromium";
        if ("true".equals(System.getenv("CI"))) {
            fail("Chromium must be installed in CI, where .ci/run installs it: " + why);
        }
        if (!skipReported) {
            skipReported = true;
            System.out.println("SKIPPED (headless Chromium tests): " + why);
        }
        Assumptions.abort(why);
        throw new AssertionError("unreachable");
    }

    /**
     * Loads {@code page} in a {@code width} × {@code height} window, waits for its load event, and
     * returns the DOM as its scripts left it, the console, and a screenshot written to
     * {@code screenshot}.
     *
     * @throws AssertionError if Chromium does not finish within {@link #TIME_LIMIT}, fails, or writes
     *         no screenshot
     */
    public Page load(Path page, Path screenshot, int width, int height) throws IOException {
        return load(page, screenshot, width, height, TIME_LIMIT);
    }

    /**
     * {@link #load(Path, Path, int, int)} with a time limit of its own.
     *
     * @throws AssertionError if Chromium does not finish within {@code timeLimit} (the message names
     *         the browser's profile folder, which every one of its processes has in its arguments),
     *         fails, or writes no screenshot
     */
    public Page load(Path page, Path screenshot, int width, int height, Duration timeLimit) throws IOException {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("window " + width + " x " + height + " is empty");
        }
        if (timeLimit.isNegative() || timeLimit.isZero()) {
            throw new IllegalArgumentException("time limit " + timeLimit + " is not positive");
        }
        if (!Files.isRegularFile(page)) { // Chromium would show its own error page, and exit 0
            throw new IllegalArgumentException("page " + page + " is not a file");
        }
        Path work = Files.createTempDirectory("smalloc4j-chromium-");
        try {
            Path stdout = work.resolve("dom.html");
            Path stderr = work.resolve("stderr.log");
            Files.createDirectories(screenshot.toAbsolutePath().getParent());
            Files.deleteIfExists(screenshot);
            List<String> command = new ArrayList<>(List.of(executable.toString(),
                    "--headless", "--disable-gpu", "--enable-logging=stderr", "--dump-dom",
                    "--screenshot=" + screenshot.toAbsolutePath(), "--window-size=" + width + "," + height,
                    "--hide-scrollbars", "--user-data-dir=" + work.resolve("profile"),
                    // a test run needs no network, first-run pages, updates or extensions
                    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio"));
            if (runningAsRoot()) {
                command.add("--no-sandbox"); // Chromium refuses to start its sandbox as root
            }
            command.add(page.toAbsolutePath().toUri().toString());
            Process process = new ProcessBuilder(command)
                    .redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            int exitCode = waitOrKill(process, timeLimit, work, stderr);
            String log = Files.readString(stderr, StandardCharsets.UTF_8);
            if (exitCode != 0) {
                throw new AssertionError("chromium exited with " + exitCode + " on " + page + "; stderr:\n" + log);
            }
            if (!Files.isRegularFile(screenshot) || Files.size(screenshot) == 0) {
                throw new AssertionError("chromium wrote no screenshot " + screenshot + "; stderr:\n" + log);
            }
            return Page.of(Files.readString(stdout, StandardCharsets.UTF_8), log, screenshot);
        } finally {
            deleteTree(work);
        }
    }

    /**
     * Waits for the browser within the time limit, noting every process of its tree it sees, so that
     * when it overruns, or leaves helpers behind, all of them can be killed (once the main process is
     * gone its children can no longer be found from it).
     */
    private static int waitOrKill(Process process, Duration timeLimit, Path work, Path stderr) throws IOException {
        long deadline = System.nanoTime() + timeLimit.toNanos();
        Set<ProcessHandle> seen = new LinkedHashSet<>();
        try {
            while (true) {
                process.descendants().forEach(seen::add);
                if (process.waitFor(100, TimeUnit.MILLISECONDS)) {
                    return process.exitValue();
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("chromium (profile " + work.resolve("profile") + ") did not finish within "
                            + timeLimit.toMillis() + " ms: killed; stderr:\n" + Files.readString(stderr, StandardCharsets.UTF_8));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for chromium", e);
        } finally {
            process.descendants().forEach(seen::add);
            seen.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            for (ProcessHandle handle : seen) {
                try {
                    handle.onExit().get(5, TimeUnit.SECONDS); // gone before its profile folder is deleted
                } catch (ExecutionException | TimeoutException e) {
                    // the deletion below says so if it left files behind
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private static boolean runningAsRoot() {
        try {
            // /proc/self belongs to the user the JVM runs as
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** Deletes the browser's temporary folder; a leftover is reported, not failed: it is not the page's fault. */
    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("HeadlessChromium: could not delete " + root + ": " + e);
        }
    }

    /**
     * What one load of a page gave.
     *
     * @param dom the DOM after the page's scripts ran, serialized by Chromium
     * @param console every console message, as "message (source)"
     * @param consoleErrors the console messages that are errors (see the class comment)
     * @param pageErrors what {@link PageErrorHook} wrote into the page; empty if the page has no hook
     *        (see {@link #hasErrorHook()})
     * @param screenshot the PNG of the window
     */
    public record Page(String dom, List<String> console, List<String> consoleErrors, List<String> pageErrors,
                       Path screenshot) {

        public Page {
            console = List.copyOf(console);
            consoleErrors = List.copyOf(consoleErrors);
            pageErrors = List.copyOf(pageErrors);
        }

        static Page of(String dom, String stderr, Path screenshot) {
            List<String> console = new ArrayList<>();
            List<String> consoleErrors = new ArrayList<>();
            for (String line : stderr.split("\n")) {
                Matcher matcher = CONSOLE_LINE.matcher(line);
                if (matcher.matches()) {
                    String message = matcher.group(2) + " (" + matcher.group(3) + ")";
                    console.add(message);
                    if (matcher.group(1).equals("ERROR") || matcher.group(1).equals("FATAL")
                            || ERROR_MESSAGE.matcher(matcher.group(2)).matches()) {
                        consoleErrors.add(message);
                    }
                }
            }
            List<String> pageErrors = new ArrayList<>();
            Matcher list = ERROR_LIST.matcher(dom);
            if (list.find()) {
                Matcher item = LIST_ITEM.matcher(list.group(1));
                while (item.find()) {
                    pageErrors.add(text(item.group(1)));
                }
            }
            return new Page(dom, console, consoleErrors, pageErrors, screenshot);
        }

        /** The text of an element's serialized content, which holds no tags: its entities decoded. */
        private static String text(String serialized) {
            return serialized.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                    .replace("&nbsp;", "\u00a0").replace("&amp;", "&");
        }

        /** Did the page's {@link PageErrorHook} run (its count attribute is on {@code <html>})? */
        public boolean hasErrorHook() {
            return ERROR_COUNT.matcher(dom).find();
        }

        /**
         * Fails unless the page's error hook ran and counted no error, no error item is in the DOM, and
         * the console has no error.
         */
        public void assertNoErrors() {
            Matcher count = ERROR_COUNT.matcher(dom);
            if (!count.find()) {
                fail("the page has no error hook (no " + PageErrorHook.COUNT_ATTRIBUTE + " on <html>): put"
                        + " PageErrorHook.SCRIPT first in its head");
            }
            if (!count.group(1).equals("0") || !pageErrors.isEmpty() || !consoleErrors.isEmpty()) {
                fail("the page reported errors: " + count.group(1) + " counted by its hook " + pageErrors
                        + ", console errors " + consoleErrors);
            }
        }

        /** How often {@code text} occurs in the DOM. */
        public int count(String text) {
            int occurrences = 0;
            for (int at = dom.indexOf(text); at >= 0; at = dom.indexOf(text, at + text.length())) {
                occurrences++;
            }
            return occurrences;
        }
    }
}
