package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Names, errors and the read-once global choice of {@link Allocators}. */
class AllocatorsTest {

    @TempDir
    Path dir;

    @BeforeEach
    @AfterEach
    void forgetTheProperties() {
        System.clearProperty(Allocators.ALLOCATOR_PROPERTY);
        System.clearProperty(Allocators.TRACE_PROPERTY);
        Allocators.resetForTests();
    }

    @Test
    void baseNamesAreTheProcessWideAllocators() {
        assertSame(Smalloc.global(), Allocators.named("smalloc"));
        NativeAllocator system = Allocators.named("system");
        assertInstanceOf(SystemAllocator.class, system);
        assertSame(system, Allocators.named("system"));
        assertEquals("system", system.name());
    }

    @Test
    void trackingNamesWrapTheNamedAllocatorOncePerName() {
        TrackingAllocator tracking = assertInstanceOf(TrackingAllocator.class, Allocators.named("tracking:smalloc"));
        assertSame(Smalloc.global(), tracking.inner());
        assertEquals("tracking:smalloc", tracking.name());
        assertSame(tracking, Allocators.named("tracking:smalloc"), "one instance per name");

        TrackingAllocator nested = assertInstanceOf(TrackingAllocator.class, Allocators.named("tracking:tracking:system"));
        assertSame(Allocators.named("tracking:system"), nested.inner());
        assertEquals("tracking:tracking:system", nested.name());

        long block = nested.alloc(64, 8);
        assertEquals(64, nested.liveBytes());
        assertEquals(64, ((TrackingAllocator) nested.inner()).liveBytes());
        nested.dealloc(block, 64, 8);
    }

    @Test
    void processWideTrackersIgnoreClose() {
        NativeAllocator tracking = Allocators.named("tracking:system");
        tracking.close();
        long block = tracking.alloc(8, 8);
        assertNotEquals(0, block);
        tracking.dealloc(block, 8, 8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Smalloc", "SYSTEM", "libc", "smalloc ", "tracking:", "tracking:nope", "tracking:tracking:x",
            "Tracking:smalloc"})
    void unknownNamesAreRejectedListingTheKnownOnes(String name) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Allocators.named(name));
        assertTrue(error.getMessage().contains("unknown allocator"), error::getMessage);
        assertTrue(error.getMessage().contains("smalloc, system, jemalloc, mimalloc, tracking:<name>"), error::getMessage);
        assertEquals(List.of("smalloc", "system", "jemalloc", "mimalloc", "tracking:<name>"), Allocators.knownNames());
    }

    @Test
    void nullNameIsRejected() {
        assertThrows(NullPointerException.class, () -> Allocators.named(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jemalloc", "mimalloc"})
    void libraryAllocatorsLoadOrSayWhyNot(String name) {
        try {
            NativeAllocator library = Allocators.named(name);
            assertSame(library, Allocators.named(name));
            long block = library.alloc(100, 64);
            assertNotEquals(0, block);
            library.dealloc(block, 100, 64);
            assertEquals(name, library.name());
        } catch (IllegalStateException notLoadable) {
            // CI installs both libraries (.ci/install-libs): there they must load
            assertFalse("true".equals(System.getenv("CI")), () -> "in CI " + name + " must load: " + notLoadable.getMessage());
            assertTrue(notLoadable.getMessage().contains("'" + name + "' cannot be loaded: "), notLoadable::getMessage);
            IllegalStateException wrapped = assertThrows(IllegalStateException.class,
                    () -> Allocators.named("tracking:" + name), "known but not loadable, also under tracking:");
            assertTrue(wrapped.getMessage().contains(name), wrapped::getMessage);
        }
    }

    @Test
    void globalIsSmallocByDefault() {
        assertSame(Smalloc.global(), Allocators.global());
        assertSame(Allocators.global(), Allocators.global());
    }

    @Test
    void globalReadsThePropertyOnce() {
        System.setProperty(Allocators.ALLOCATOR_PROPERTY, "system");
        NativeAllocator global = Allocators.global();
        assertInstanceOf(SystemAllocator.class, global);
        System.setProperty(Allocators.ALLOCATOR_PROPERTY, "smalloc");
        assertSame(global, Allocators.global(), "the property was read once");
        assertSame(global, Allocators.named("system"));
    }

    @Test
    void globalWithABadNameFailsEveryCall() {
        System.setProperty(Allocators.ALLOCATOR_PROPERTY, "smaloc");
        for (int call = 0; call < 2; call++) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, Allocators::global,
                    "no silent fallback, call " + call);
            assertTrue(error.getMessage().contains("'smaloc'"), error::getMessage);
        }
    }

    @Test
    void tracePropertyWithoutATrackerFailsRatherThanRecordNothing() {
        System.setProperty(Allocators.TRACE_PROPERTY, dir.resolve("x.trace").toString());
        IllegalStateException error = assertThrows(IllegalStateException.class, Allocators::global);
        assertTrue(error.getMessage().contains("-Dsmalloc4j.allocator=tracking:smalloc"), error::getMessage);
    }

    @Test
    void unwritableTraceFileMakesTheGlobalTrackerUnloadable() {
        System.setProperty(Allocators.ALLOCATOR_PROPERTY, "tracking:system");
        System.setProperty(Allocators.TRACE_PROPERTY, dir.resolve("missing/folder/x.trace").toString());
        IllegalStateException error = assertThrows(IllegalStateException.class, Allocators::global);
        assertTrue(error.getMessage().contains("'tracking:system' cannot be loaded"), error::getMessage);
        assertTrue(error.getMessage().contains("x.trace"), error::getMessage);
    }

    @Test
    void globalTrackerRecordsTheTracePropertyWithThePid() throws IOException {
        System.setProperty(Allocators.ALLOCATOR_PROPERTY, "tracking:smalloc");
        System.setProperty(Allocators.TRACE_PROPERTY, dir.resolve("app-%p.trace").toString());
        TrackingAllocator tracking = assertInstanceOf(TrackingAllocator.class, Allocators.global());
        Path file = dir.resolve("app-" + ProcessHandle.current().pid() + ".trace");
        assertEquals(file, tracking.traceFile().orElseThrow());
        assertTrue(((TrackingAllocator) Allocators.named("tracking:tracking:smalloc")).traceFile().isEmpty(),
                "only the global tracker traces");
        tracking.dealloc(tracking.alloc(10, 1), 10, 1);
        tracking.closeTrace();
        List<TraceEvent> events = TraceReader.readAll(file);
        assertEquals(4, events.size(), () -> "thread, alloc, free, end: " + events);
    }

    @Test
    void wholeProgramSwitchesAndTracesWithTwoProperties() throws Exception {
        Path trace = dir.resolve("program.trace");
        List<String> output = runTracedProgram("-D" + Allocators.ALLOCATOR_PROPERTY + "=tracking:smalloc",
                "-D" + Allocators.TRACE_PROPERTY + "=" + trace);
        assertEquals(List.of("tracking:smalloc", "101 1000 3000", "true"), output);
        TestReplay replay = TestReplay.of(trace);
        assertTrue(replay.complete(), "the JVM's exit completed the trace");
        assertEquals(101, replay.allocations());
        assertEquals(3000, replay.peak());
        assertEquals(1000, replay.live());

        assertEquals(List.of("system", "true"), runTracedProgram("-D" + Allocators.ALLOCATOR_PROPERTY + "=system"));
    }

    private record TestReplay(long allocations, long live, long peak, boolean complete) {
        static TestReplay of(Path file) throws IOException {
            TrackingAllocatorTest.Replay replay = TrackingAllocatorTest.Replay.of(file);
            return new TestReplay(replay.allocations, replay.live, replay.peak, replay.complete);
        }
    }

    /** Runs {@link TracedProgram} in a new JVM on the class path; returns its output lines. */
    private List<String> runTracedProgram(String... properties) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classPath = location(Allocators.class) + File.pathSeparator + location(TracedProgram.class);
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        command.addAll(List.of(properties));
        command.addAll(List.of("-cp", classPath, TracedProgram.class.getName()));
        Path log = dir.resolve("program.log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "program did not end");
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), () -> String.join("\n", lines));
        return lines;
    }

    private static String location(Class<?> type) throws Exception {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
