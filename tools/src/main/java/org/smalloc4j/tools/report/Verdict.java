package org.smalloc4j.tools.report;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.smalloc4j.tools.replay.AllocatorReplay;
import org.smalloc4j.tools.replay.ReplayOutput;

/**
 * The one sentence at the top of a report: which allocator wins a trace and by how much, on time and
 * on memory.
 *
 * <p><b>Time</b>: the winner is the allocator with the shortest median timed pass
 * ({@link AllocatorReplay#medianNanos()}); "by how much" is the runner-up's median over the winner's.
 * Below {@value #TIE_RATIO}× the two are called about equally fast: closer than that, a re-run on a
 * shared machine can swap them. <b>Memory</b>: the allocator with the lowest peak RSS growth
 * ({@link AllocatorReplay#peakRssGrowthBytes()}), against the next lowest, with its fragmentation at
 * the peak. When {@code smalloc} was replayed and is not named on the time side already, its
 * own figures close the sentence, since the project's readers look for them.
 */
public final class Verdict {

    /** Time ratios below this count as a tie. */
    static final double TIE_RATIO = 1.02;

    /** The allocator whose figures the sentence always gives, when it was replayed. */
    static final String SMALLOC = "smalloc";

    /** The definition of "wins" that the sentence follows, for the page beneath it. */
    public static final String DEFINITION = "Fastest: the shortest median of the timed passes (each pass replays every"
            + " operation of the trace, with the pattern writes and checks). Memory: the largest growth of the child"
            + " JVM's resident set (VmRSS) over its size when the measured pass started; this growth includes a few MiB"
            + " of the JVM's own (JIT code and arenas), the same for every allocator. Fragmentation: RSS growth ÷ live"
            + " bytes at the peak.";

    private Verdict() {
    }

    /**
     * The sentence for these results, in the order they were run.
     *
     * @throws IllegalArgumentException if {@code replays} is empty
     */
    public static String sentence(List<AllocatorReplay> replays) {
        if (replays.isEmpty()) {
            throw new IllegalArgumentException("a verdict needs at least one allocator's replay");
        }
        if (replays.size() == 1) {
            AllocatorReplay only = replays.getFirst();
            return String.format(Locale.ROOT, "Only %s was replayed: median timed pass %s, peak RSS growth %s.",
                    only.allocator(), millis(only), rss(only));
        }
        List<AllocatorReplay> byTime = replays.stream().sorted(Comparator.comparingLong(AllocatorReplay::medianNanos))
                .toList();
        AllocatorReplay fastest = byTime.get(0);
        AllocatorReplay runnerUp = byTime.get(1);
        double ratio = (double) runnerUp.medianNanos() / Math.max(1, fastest.medianNanos());
        StringBuilder sentence = new StringBuilder();
        if (ratio < TIE_RATIO) {
            sentence.append(String.format(Locale.ROOT, "%s and %s replay this trace about equally fast (%s and %s,"
                    + " within %.0f%%)", fastest.allocator(), runnerUp.allocator(), millis(fastest), millis(runnerUp),
                    (TIE_RATIO - 1) * 100));
        } else {
            sentence.append(String.format(Locale.ROOT, "%s replays this trace fastest, %s faster than %s (%s vs %s)",
                    fastest.allocator(), times(ratio), runnerUp.allocator(), millis(fastest), millis(runnerUp)));
        }
        List<AllocatorReplay> byRss = replays.stream().filter(replay -> replay.peakRssGrowthBytes() >= 0)
                .sorted(Comparator.comparingLong(AllocatorReplay::peakRssGrowthBytes)).toList();
        AllocatorReplay leanest = byRss.isEmpty() ? null : byRss.getFirst();
        if (leanest == null) {
            sentence.append("; resident memory could not be measured here (no /proc/self/status)");
        } else {
            sentence.append(String.format(Locale.ROOT, "; %s%s has the lowest peak RSS growth (%s", leanest.allocator(),
                    leanest == fastest ? " also" : "", rss(leanest)));
            if (byRss.size() > 1) {
                sentence.append(String.format(Locale.ROOT, " vs %s for %s", rss(byRss.get(1)), byRss.get(1).allocator()));
            }
            sentence.append(leanest.fragmentationAtPeak() == null ? ")"
                    : String.format(Locale.ROOT, ", fragmentation %.2f× at the peak)", leanest.fragmentationAtPeak()));
        }
        AllocatorReplay smalloc = replays.stream().filter(replay -> replay.allocator().equals(SMALLOC)).findFirst()
                .orElse(null);
        if (smalloc != null && smalloc != fastest && smalloc != runnerUp) {
            sentence.append(String.format(Locale.ROOT, "; smalloc takes %s (%s the fastest's)", millis(smalloc),
                    times((double) smalloc.medianNanos() / Math.max(1, fastest.medianNanos()))));
            if (smalloc != leanest && (byRss.size() < 2 || smalloc != byRss.get(1))) {
                sentence.append(" and grows RSS by ").append(rss(smalloc));
            }
        }
        return sentence.append('.').toString();
    }

    private static String millis(AllocatorReplay replay) {
        return String.format(Locale.ROOT, "%.1f ms", replay.medianNanos() / 1e6);
    }

    private static String rss(AllocatorReplay replay) {
        return replay.peakRssGrowthBytes() < 0 ? "not measured" : ReplayOutput.mib(replay.peakRssGrowthBytes());
    }

    private static String times(double ratio) {
        return String.format(Locale.ROOT, "%.2f×", ratio);
    }
}
