package org.smalloc4j.tools.report;

import java.util.List;
import java.util.Locale;

import org.smalloc4j.SmallocStats;
import org.smalloc4j.tools.heapmap.HeapMap;
import org.smalloc4j.tools.replay.ReplayOutput;
import org.smalloc4j.tools.replay.TraceSummary;

/**
 * The heap map of a report: Smalloc's heap at the trace's peak, cut to the size classes from the
 * smallest to the largest that the replay touched. The global heap has classes up to 2 GiB, and a
 * trace rarely touches more than a third of them: the rows left out would be grey, and would make
 * the page and the SVG several hundred KiB larger.
 */
public final class PeakHeapMap {

    private PeakHeapMap() {
    }

    /** The map of {@code statsAtPeak}, with a caption that says which trace and moment it shows. */
    public static HeapMap of(SmallocStats statsAtPeak, TraceSummary trace, String traceName) {
        SmallocStats touched = touchedClasses(statsAtPeak);
        String leftOut = touched.classes().size() == statsAtPeak.classes().size() ? ""
                : String.format(Locale.ROOT, "; classes %s to %s shown, the others never touched",
                        HeapMap.bytes(touched.classes().getFirst().slotSize()),
                        HeapMap.bytes(touched.classes().getLast().slotSize()));
        return HeapMap.of(touched).caption(String.format(Locale.ROOT, "at the peak of %s: after operation %,d of %,d,"
                + " %s live%s", traceName, trace.peakLiveOp(), trace.operations(), ReplayOutput.mib(trace.peakLiveBytes()),
                leftOut));
    }

    /** The classes from the smallest to the largest with a touched slot; all of them if none was touched. */
    static SmallocStats touchedClasses(SmallocStats stats) {
        List<SmallocStats.SizeClass> classes = stats.classes();
        int first = 0;
        while (first < classes.size() && classes.get(first).slotsTouched() == 0) {
            first++;
        }
        if (first == classes.size()) {
            return stats;
        }
        int last = classes.size() - 1;
        while (classes.get(last).slotsTouched() == 0) {
            last--;
        }
        return new SmallocStats(stats.heapName(), classes.subList(first, last + 1), stats.pageSize());
    }
}
