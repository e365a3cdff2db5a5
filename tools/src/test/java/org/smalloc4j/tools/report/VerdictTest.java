package org.smalloc4j.tools.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.Sample;

/** The sentence at the top of a report, from made-up results: who wins, by how much, and the memory side. */
class VerdictTest {

    private static final long MIB = 1 << 20;

    /** A replay of 1,000 operations with this median time and peak RSS growth (-1: not measured). */
    private static AllocatorReplay replay(String allocator, double millis, long peakRssGrowth) {
        long nanos = Math.round(millis * 1e6);
        long peakLive = 10 * MIB;
        Double fragmentation = peakRssGrowth < 0 ? null : (double) peakRssGrowth / peakLive;
        return new AllocatorReplay(allocator, 1000, List.of(nanos), nanos, nanos / 1000.0, peakLive, 0, 100 * MIB,
                peakRssGrowth, peakRssGrowth, peakRssGrowth, fragmentation, null,
                List.of(new Sample(0, 0, 0), new Sample(1000, 0, Math.max(peakRssGrowth, -1))), false, List.of());
    }

    @Test
    void theFastestIsComparedWithTheRunnerUpAndTheLeanestWithTheNextLowest() {
        String sentence = Verdict.sentence(List.of(replay("smalloc", 18, 12 * MIB), replay("system", 30, 25 * MIB),
                replay("mimalloc", 10, 20 * MIB)));
        assertEquals("mimalloc replays this trace fastest, 1.80× faster than smalloc (10.0 ms vs 18.0 ms); smalloc has"
                + " the lowest peak RSS growth (12.0 MiB vs 20.0 MiB for mimalloc, fragmentation 1.20× at the peak).",
                sentence);
    }

    @Test
    void smallocsOwnFiguresCloseTheSentenceWhenNotNamedBefore() {
        String sentence = Verdict.sentence(List.of(replay("smalloc", 40, 30 * MIB), replay("system", 10, 14 * MIB),
                replay("jemalloc", 12, 16 * MIB)));
        assertEquals("system replays this trace fastest, 1.20× faster than jemalloc (10.0 ms vs 12.0 ms); system also"
                + " has the lowest peak RSS growth (14.0 MiB vs 16.0 MiB for jemalloc, fragmentation 1.40× at the peak);"
                + " smalloc takes 40.0 ms (4.00× the fastest's) and grows RSS by 30.0 MiB.", sentence);
    }

    @Test
    void timesCloserThanTwoPercentAreATie() {
        String sentence = Verdict.sentence(List.of(replay("smalloc", 10.1, 8 * MIB), replay("system", 10, 9 * MIB)));
        assertEquals("system and smalloc replay this trace about equally fast (10.0 ms and 10.1 ms, within 2%);"
                + " smalloc has the lowest peak RSS growth (8.0 MiB vs 9.0 MiB for system, fragmentation 0.80× at the"
                + " peak).", sentence);
    }

    @Test
    void unmeasuredResidentMemoryIsSaid() {
        String sentence = Verdict.sentence(List.of(replay("system", 10, -1), replay("jemalloc", 20, -1)));
        assertEquals("system replays this trace fastest, 2.00× faster than jemalloc (10.0 ms vs 20.0 ms); resident"
                + " memory could not be measured here (no /proc/self/status).", sentence);
    }

    @Test
    void oneAllocatorHasNoContest() {
        assertEquals("Only smalloc was replayed: median timed pass 5.0 ms, peak RSS growth 3.0 MiB.",
                Verdict.sentence(List.of(replay("smalloc", 5, 3 * MIB))));
        assertThrows(IllegalArgumentException.class, () -> Verdict.sentence(List.of()));
    }
}
