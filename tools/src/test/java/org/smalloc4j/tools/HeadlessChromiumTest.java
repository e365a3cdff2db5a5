package org.smalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.smalloc4j.tools.heapmap.PageErrorHook;

/**
 * The browser helper finds what goes wrong in a page (so that "no errors" in a page test means
 * something), passes a clean page, and kills a browser that never finishes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HeadlessChromiumTest {

    private HeadlessChromium chromium;

    @TempDir
    Path folder;

    @BeforeEach
    void findChromium() {
        chromium = HeadlessChromium.require(); // each test skipped on its own when it is missing (outside CI)
    }

    private Path page(String head, String body) throws IOException {
        Path page = folder.resolve("page.html");
        Files.writeString(page, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" + head + "</head><body>" + body
                + "</body></html>", StandardCharsets.UTF_8);
        return page;
    }

    @Test
    void aCleanPagePassesAndItsScriptsChangesAreInTheDom() throws IOException {
        Path page = page(PageErrorHook.SCRIPT,
                "<p>hello</p><script>document.body.setAttribute('data-ran', 'yes'); console.log('just a log');</script>");
        HeadlessChromium.Page loaded = chromium.load(page, folder.resolve("clean.png"), 400, 300);
        loaded.assertNoErrors();
        assertTrue(loaded.hasErrorHook());
        assertEquals(1, loaded.count("data-ran=\"yes\""), loaded.dom());
        assertTrue(loaded.console().stream().anyMatch(line -> line.startsWith("just a log")), loaded.console()::toString);
        assertEquals(List.of(), loaded.consoleErrors());
        byte[] png = Files.readAllBytes(loaded.screenshot());
        assertEquals("PNG", new String(png, 1, 3, StandardCharsets.US_ASCII), "a PNG screenshot");
    }

    @Test
    void errorsAreFoundInTheDomAndOnTheConsole() throws IOException {
        Path page = page(PageErrorHook.SCRIPT, """
                <img src="missing.png">
                <script>console.error('first', 'problem');</script>
                <script>Promise.reject(new Error('nobody waits'));</script>
                <script>undefinedFunction();</script>
                """);
        HeadlessChromium.Page loaded = chromium.load(page, folder.resolve("errors.png"), 400, 300);
        List<String> errors = loaded.pageErrors();
        assertEquals(4, errors.size(), errors::toString);
        assertTrue(errors.contains("console.error: first problem"), errors::toString);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("uncaught: Uncaught ReferenceError: undefinedFunction")),
                errors::toString);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("unhandled rejection: Error: nobody waits")), errors::toString);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("failed to load <img>") && e.endsWith("missing.png")),
                errors::toString);
        assertTrue(loaded.consoleErrors().stream().anyMatch(e -> e.startsWith("Uncaught ReferenceError")),
                loaded.consoleErrors()::toString);
        assertTrue(loaded.consoleErrors().stream().anyMatch(e -> e.startsWith("Uncaught (in promise)")),
                loaded.consoleErrors()::toString);
        AssertionError failed = assertThrows(AssertionError.class, loaded::assertNoErrors);
        assertTrue(failed.getMessage().contains("4 counted by its hook"), failed.getMessage());
    }

    @Test
    void aPageWithoutTheHookCannotPass() throws IOException {
        HeadlessChromium.Page loaded = chromium.load(page("", "<p>no hook</p>"), folder.resolve("nohook.png"), 400, 300);
        AssertionError failed = assertThrows(AssertionError.class, loaded::assertNoErrors);
        assertTrue(failed.getMessage().contains("no error hook"), failed.getMessage());
    }

    @Test
    void aPageThatNeverFinishesIsKilledWithEveryProcessOfItsBrowser() throws IOException {
        Path page = page("", "<script>while (true) {}</script>");
        AssertionError overran = assertThrows(AssertionError.class,
                () -> chromium.load(page, folder.resolve("loop.png"), 400, 300, Duration.ofSeconds(3)));
        assertTrue(overran.getMessage().contains("did not finish within 3000 ms: killed"), overran.getMessage());
        String profile = overran.getMessage().replaceFirst("(?s).*\\(profile (\\S+)\\).*", "$1");
        assertTrue(profile.contains("smalloc4j-chromium-"), overran.getMessage());
        List<String> left = ProcessHandle.allProcesses()
                .filter(process -> String.join(" ", process.info().arguments().orElse(new String[0])).contains(profile))
                .map(process -> process.pid() + " " + process.info().commandLine().orElse("?"))
                .toList();
        assertEquals(List.of(), left, "browser processes left running");
    }

    @Test
    void badWindowsTimeLimitsAndPagesAreRejected() throws IOException {
        Path page = page("", "");
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> chromium.load(page, folder.resolve("x.png"), 0, 300));
        assertEquals("window 0 x 300 is empty", empty.getMessage());
        IllegalArgumentException limit = assertThrows(IllegalArgumentException.class,
                () -> chromium.load(page, folder.resolve("x.png"), 400, 300, Duration.ZERO));
        assertEquals("time limit PT0S is not positive", limit.getMessage());
        Path missing = folder.resolve("missing.html");
        IllegalArgumentException noPage = assertThrows(IllegalArgumentException.class,
                () -> chromium.load(missing, folder.resolve("x.png"), 400, 300));
        assertEquals("page " + missing + " is not a file", noPage.getMessage());
    }
}
