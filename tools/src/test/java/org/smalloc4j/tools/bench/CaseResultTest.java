package org.smalloc4j.tools.bench;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ratio to the fastest of a group, the star on the fastest row, and the row's derived figures. */
class CaseResultTest {

    private static final Workload PAIRS_16 = new AllocFreePairs(16);

    private static Measurement measured(Workload workload, String allocator, int threads, double... rounds) {
        return new Measurement(workload, allocator, threads, rounds);
    }

    private static List<OptionalLong> noRss(int count) {
        return java.util.Collections.nCopies(count, OptionalLong.empty());
    }

    @Test
    void ratiosAreToTheFastestWhereverItStands() {
        List<CaseResult> ranked = CaseResult.rankGroup(List.of(
                measured(PAIRS_16, "smalloc", 1, 20, 21, 19),
                measured(PAIRS_16, "system", 1, 10, 10, 10),
                measured(PAIRS_16, "jemalloc", 1, 15, 14, 16)), noRss(3));
        assertEquals(List.of(2.0, 1.0, 1.5), ranked.stream().map(CaseResult::ratioToBest).toList());
        assertEquals(List.of(false, true, false), ranked.stream().map(CaseResult::best).toList());
        assertEquals(List.of("smalloc", "system", "jemalloc"), ranked.stream().map(CaseResult::allocator).toList());
    }

    @Test
    void tiesAreAllBest() {
        List<CaseResult> ranked = CaseResult.rankGroup(List.of(
                measured(PAIRS_16, "smalloc", 2, 12), measured(PAIRS_16, "system", 2, 12),
                measured(PAIRS_16, "mimalloc", 2, 36)), noRss(3));
        assertEquals(List.of(true, true, false), ranked.stream().map(CaseResult::best).toList());
        assertEquals(3.0, ranked.get(2).ratioToBest());
    }

    @Test
    void aGroupOfOneIsItsOwnBest() {
        CaseResult only = CaseResult.rankGroup(List.of(measured(PAIRS_16, "smalloc", 1, 7)), noRss(1)).getFirst();
        assertTrue(only.best());
        assertEquals(1.0, only.ratioToBest());
    }

    @Test
    void rowFiguresFollowFromTheMeasurement() {
        CaseResult row = CaseResult.rankGroup(List.of(measured(PAIRS_16, "smalloc", 2, 10, 40, 20)),
                List.of(OptionalLong.of(3 * 1024 * 1024 + 512 * 1024))).getFirst();
        assertEquals(20.0, row.nsPerOp()); // the median
        assertEquals(1.5, row.spread());   // (40 - 10) / 20
        assertEquals(2 * 1e9 / 20, row.opsPerSecond());
        assertEquals(3.5, row.peakRssGrowthMiB().getAsDouble());
        assertEquals("16", row.size());
        assertEquals(2, row.threads());
        assertTrue(CaseResult.rankGroup(List.of(measured(PAIRS_16, "smalloc", 1, 5)), noRss(1)).getFirst()
                .peakRssGrowthMiB().isEmpty());
    }

    @Test
    void badGroupsAreRefusedSayingWhy() {
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class, () -> CaseResult.rankGroup(
                List.of(measured(PAIRS_16, "smalloc", 1, 5), measured(new AllocFreePairs(256), "system", 1, 5)), noRss(2)));
        assertTrue(mixed.getMessage().contains("pairs 16 on 1 threads with pairs 256"), mixed.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CaseResult.rankGroup(
                List.of(measured(PAIRS_16, "smalloc", 1, 5), measured(PAIRS_16, "system", 2, 5)), noRss(2)));
        assertThrows(IllegalArgumentException.class, () -> CaseResult.rankGroup(List.of(), List.of()));
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
                () -> CaseResult.rankGroup(List.of(measured(PAIRS_16, "smalloc", 1, 5)), noRss(2)));
        assertTrue(lengths.getMessage().contains("1 measurements but 2 peak RSS figures"), lengths.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new CaseResult(measured(PAIRS_16, "smalloc", 1, 5), OptionalLong.empty(), 0.5, false));
    }

    @Test
    void theTableStarsTheFastestAndShowsRssOrNa() {
        StringWriter text = new StringWriter();
        ResultTable table = new ResultTable(new PrintWriter(text), List.of(PAIRS_16), List.of("smalloc", "system"));
        table.printHeader();
        table.printGroup(CaseResult.rankGroup(List.of(measured(PAIRS_16, "smalloc", 1, 20), measured(PAIRS_16, "system", 1, 10)),
                List.of(OptionalLong.of(2 * 1024 * 1024), OptionalLong.empty())));
        List<String> lines = text.toString().lines().toList();
        assertTrue(lines.stream().anyMatch(line -> line.matches("workload +threads +size +allocator +ns/op +Mops/s"
                + " +spread +ratio +RSS\\+MiB")), text.toString());
        String smalloc = lines.stream().filter(line -> line.startsWith("pairs") && line.contains("smalloc")).findFirst().orElseThrow();
        String system = lines.stream().filter(line -> line.startsWith("pairs") && line.contains("system")).findFirst().orElseThrow();
        assertTrue(smalloc.matches("pairs +1 +16 +smalloc +20\\.0 +50\\.00 +0% +2\\.00 +2\\.0"), smalloc);
        assertTrue(system.matches("pairs +1 +16 +system +10\\.0 +100\\.00 +0% +1\\.00 \\* +n/a"), system);
        assertFalse(smalloc.contains("*"), smalloc);
    }

    @Test
    void aBlankLineSeparatesWorkloadsNotGroups() {
        StringWriter text = new StringWriter();
        Workload mixed = new MixedWorkload(10);
        ResultTable table = new ResultTable(new PrintWriter(text), List.of(PAIRS_16, mixed), List.of("smalloc"));
        table.printGroup(CaseResult.rankGroup(List.of(measured(PAIRS_16, "smalloc", 1, 5)), noRss(1)));
        table.printGroup(CaseResult.rankGroup(List.of(measured(PAIRS_16, "smalloc", 2, 5)), noRss(1)));
        table.printGroup(CaseResult.rankGroup(List.of(measured(mixed, "smalloc", 1, 5)), noRss(1)));
        List<String> lines = text.toString().lines().toList();
        assertEquals(4, lines.size(), text.toString());
        assertTrue(lines.get(0).startsWith("pairs") && lines.get(1).startsWith("pairs"), text.toString());
        assertEquals("", lines.get(2));
        assertTrue(lines.get(3).startsWith("mixed"), text.toString());
    }

    @Test
    void rssNeverPrintsMinusZero() {
        assertEquals("0.0", ResultTable.mib(-0.04));
        assertEquals("-0.1", ResultTable.mib(-0.06));
        assertEquals("12.3", ResultTable.mib(12.34));
    }
}
