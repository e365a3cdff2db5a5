package org.smalloc4j.tools.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.TrackingAllocator;

/** A replay in a child JVM that also hands back the Smalloc heap's stats at the trace's peak. */
class ReplayProcessTest {

    private static final ReplaySettings QUICK = new ReplaySettings(0, 1, 1, false);

    @TempDir
    Path dir;

    /** Three blocks live at the peak (100 B, 3000 B, 70,000 B), then all freed but one. */
    private ReplayTrace trace() throws IOException {
        Path file = dir.resolve("peak.trace");
        try (Smalloc heap = Smalloc.builder().slabsPerClass(2).largestSlot(1 << 20).build()) {
            TrackingAllocator tracking = TrackingAllocator.builder(heap).traceTo(file).build();
            long a = tracking.alloc(100, 8);
            long b = tracking.alloc(3000, 8);
            long c = tracking.alloc(70_000, 8);    // the peak: 73,100 bytes in three blocks
            tracking.dealloc(b, 3000, 8);
            tracking.dealloc(c, 70_000, 8);
            long d = tracking.alloc(40, 8);
            tracking.dealloc(a, 100, 8);
            tracking.close();
            heap.dealloc(d, 40, 8);
        }
        return ReplayTrace.load(file, false);
    }

    @Test
    void smallocsChildHandsBackItsStatsAtThePeak() throws IOException, InterruptedException {
        ReplayTrace trace = trace();
        ReplayProcess.Outcome outcome = ReplayProcess.run(trace.file(), trace.summary(), "smalloc", QUICK, false, dir,
                true);
        assertEquals(73_100, outcome.replay().peakLiveBytes());
        SmallocStats stats = outcome.statsAtPeak().orElseThrow();
        assertEquals("smalloc", stats.heapName(), "the global heap");
        assertEquals(3, stats.slotsInUse(), "the three blocks live at the peak, and nothing else: " + stats);
        assertEquals(128 + 4096 + 131_072, stats.bytesInUse(), "their slots");

        assertTrue(ReplayProcess.run(trace.file(), trace.summary(), "smalloc", QUICK, false, dir, false)
                .statsAtPeak().isEmpty(), "none unless asked for");
    }

    @Test
    void statsAtThePeakOfAnotherAllocatorFailItsChild() throws IOException {
        ReplayTrace trace = trace();
        ReplayFailure failure = assertThrows(ReplayFailure.class,
                () -> ReplayProcess.run(trace.file(), trace.summary(), "system", QUICK, false, dir, true));
        assertTrue(failure.getMessage().contains("replay on 'system' failed in its own JVM (exit code 1): stats at the"
                + " peak need a Smalloc heap, but 'system' is SystemAllocator"), failure.getMessage());
    }
}
