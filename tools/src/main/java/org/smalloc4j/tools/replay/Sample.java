package org.smalloc4j.tools.replay;

/**
 * One point of a replay's time series.
 *
 * @param op operations done when the sample was taken (0: before the first)
 * @param liveBytes bytes live then, as requested by the trace's callers
 * @param rssGrowthBytes the replaying process's resident set ({@code VmRSS}) then, minus its resident
 *        set when the replay started; -1 where {@code /proc/self/status} cannot be read
 */
public record Sample(long op, long liveBytes, long rssGrowthBytes) {
}
