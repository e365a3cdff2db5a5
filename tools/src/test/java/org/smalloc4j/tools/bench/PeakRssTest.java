package org.smalloc4j.tools.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Peak RSS from /proc: the real one sees memory a case touched; a /proc without clear_refs gives no figures. */
class PeakRssTest {

    private static final long MIB = 1024 * 1024;

    @TempDir
    Path folder;

    @Test
    @EnabledOnOs(OS.LINUX)
    void theRealProcSeesTouchedMemoryAndForgetsItAfterAReset() {
        PeakRss peakRss = PeakRss.ofThisProcess();
        assertTrue(peakRss.available(), () -> peakRss.unavailableReason().orElseThrow());
        long bytes = 64 * MIB;
        OptionalLong atReset = peakRss.resetPeak();
        assertTrue(atReset.getAsLong() > 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(bytes, 4096);
            for (long offset = 0; offset < bytes; offset += 4096) {
                block.set(ValueLayout.JAVA_BYTE, offset, (byte) 1); // every page resident
            }
        } // unmapped again: the peak stays
        long growth = peakRss.growthSince(atReset).getAsLong();
        assertTrue(growth >= 60 * MIB && growth < 200 * MIB, "growth " + growth / MIB + " MiB after touching 64 MiB");

        OptionalLong afterSecondReset = peakRss.resetPeak(); // the 64 MiB are gone: the peak forgets them
        long quietGrowth = peakRss.growthSince(afterSecondReset).getAsLong();
        assertTrue(quietGrowth < 16 * MIB, "growth " + quietGrowth / MIB + " MiB with nothing touched");
    }

    @Test
    void withoutAWritableClearRefsThereAreNoFigures() throws Exception {
        Files.createDirectory(folder.resolve("clear_refs")); // a folder: writing to it fails, even for root
        Files.writeString(folder.resolve("status"), "VmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n");
        PeakRss peakRss = PeakRss.of(folder);
        assertFalse(peakRss.available());
        assertTrue(peakRss.unavailableReason().orElseThrow().contains("cannot write " + folder.resolve("clear_refs")),
                peakRss.unavailableReason().orElseThrow());
        assertTrue(peakRss.resetPeak().isEmpty());
        assertTrue(peakRss.growthSince(peakRss.resetPeak()).isEmpty());
    }

    /** A folder laid out as /proc/self: an empty, writable clear_refs and this status text. */
    private PeakRss fakeProc(String status) throws Exception {
        Files.writeString(folder.resolve("clear_refs"), "");
        Files.writeString(folder.resolve("status"), status);
        return PeakRss.of(folder);
    }

    @Test
    void aFakeProcGivesItsFigures() throws Exception {
        PeakRss peakRss = fakeProc("Name:\tjava\nVmPeak:\t 9999 kB\nVmHWM:\t  3072 kB\nVmRSS:\t  1024 kB\n");
        assertTrue(peakRss.available());
        OptionalLong atReset = peakRss.resetPeak();
        assertEquals(1024 * 1024, atReset.getAsLong());
        assertEquals("5", Files.readString(folder.resolve("clear_refs")));
        assertEquals(2 * MIB, peakRss.growthSince(atReset).getAsLong());
    }

    @Test
    void aStatusWithoutTheFieldsIsUnavailable() throws Exception {
        PeakRss peakRss = fakeProc("Name:\tjava\nVmRSS:\t  1024 kB\n");
        assertFalse(peakRss.available());
        assertTrue(peakRss.unavailableReason().orElseThrow().contains("no VmHWM line"),
                peakRss.unavailableReason().orElseThrow());
    }

    @Test
    void statusLinesAreReadInKilobytes() {
        assertEquals(123456L * 1024, PeakRss.statusBytes("VmRSS:\t  123456 kB\n", "VmRSS"));
        assertEquals(5L * 1024, PeakRss.statusBytes("VmHWMx:\t 1 kB\nVmHWM:\t5 kB", "VmHWM"));
        IllegalStateException unit = assertThrows(IllegalStateException.class,
                () -> PeakRss.statusBytes("VmRSS:\t 12 MB\n", "VmRSS"));
        assertTrue(unit.getMessage().contains("unexpected VmRSS line"), unit.getMessage());
        assertThrows(IllegalStateException.class, () -> PeakRss.statusBytes("Name:\tjava\n", "VmRSS"));
    }
}
