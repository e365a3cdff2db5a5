package org.smalloc4j.tools.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.tools.heapmap.HeapMap;
import org.smalloc4j.tools.replay.TraceSummary;

/** The report's heap map keeps the size classes from the smallest to the largest touched one. */
class PeakHeapMapTest {

    /** Classes 2 to 9 with two slabs each; {@code touched[i]} slots touched (one in use) in class 2 + i, slab 0. */
    private static SmallocStats stats(long... touched) {
        List<SmallocStats.SizeClass> classes = new ArrayList<>();
        for (int i = 0; i < touched.length; i++) {
            int sizeClass = 2 + i;
            long inUse = Math.min(1, touched[i]);
            classes.add(new SmallocStats.SizeClass(sizeClass, 1L << sizeClass, 1024, inUse, touched[i], 0,
                    List.of(new SmallocStats.Slab(0, inUse, touched[i], 0), new SmallocStats.Slab(1, 0, 0, 0))));
        }
        return new SmallocStats("global", classes, 4096);
    }

    @Test
    void classesOutsideTheTouchedRangeAreLeftOutAndTheCaptionSaysSo() {
        SmallocStats stats = stats(0, 0, 3, 0, 5, 0, 0, 0);
        SmallocStats cut = PeakHeapMap.touchedClasses(stats);
        assertEquals(List.of(4, 5, 6), cut.classes().stream().map(SmallocStats.SizeClass::sizeClass).toList(),
                "from the first touched class to the last, the untouched one between kept");

        TraceSummary trace = new TraceSummary("t/app.trace", "tracking:smalloc", true, 10, 5, 1, 0, 3 << 20, 7, 0);
        HeapMap map = PeakHeapMap.of(stats, trace, "app");
        assertEquals(3 * 2, map.cellCount());
        String svg = map.svg(HeapMap.Measure.IN_USE);
        assertTrue(svg.contains("at the peak of app: after operation 7 of 10, 3.0 MiB live; classes 16 B to 64 B shown,"
                + " the others never touched"), svg);
    }

    @Test
    void aHeapWithNothingTouchedIsDrawnWhole() {
        SmallocStats stats = stats(0, 0, 0);
        assertSame(stats, PeakHeapMap.touchedClasses(stats));
        assertEquals(3, PeakHeapMap.touchedClasses(stats(1, 0, 1)).classes().size());
    }
}
