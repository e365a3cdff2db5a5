package org.smalloc4j.tools.replay;

import java.util.List;

/**
 * What replaying one trace on one allocator measured, in a process of its own.
 *
 * <p>A replay makes one <i>measured pass</i> over the trace first, in the fresh process: it samples
 * live bytes and resident memory ({@link #series()}), and asks the allocator for each block's usable
 * size ({@link #waste()}). Then, after {@code warmup} untimed passes for the JIT, {@code repeat}
 * <i>timed passes</i> replay the trace again with nothing
 * but the operations, the pattern written into each block and its check ({@link #passNanos()}); the
 * blocks a pass leaves live are freed after its clock stops.
 *
 * @param allocator the allocator's name ({@code Allocators.named})
 * @param operations operations per pass
 * @param passNanos the time of each timed pass, in nanoseconds
 * @param medianNanos the median of {@code passNanos}
 * @param nsPerOp {@code medianNanos / operations}
 * @param peakLiveBytes the most bytes live at once during the measured pass (counted by a
 *        {@code TrackingAllocator} around the allocator, and equal to the trace's own count)
 * @param endLiveBytes bytes live after the last operation
 * @param rssAtStartBytes the process's resident set when the measured pass started
 * @param peakRssGrowthBytes the largest resident-set growth of any sample (-1 if unknown)
 * @param rssGrowthAtPeakLiveBytes the growth sampled at the operation where live bytes peaked
 * @param rssGrowthAtEndBytes the growth after the last operation (before leftovers are freed)
 * @param fragmentationAtPeak resident growth / live bytes at the peak; null if unknown
 * @param fragmentationAtEnd resident growth / live bytes at the end; null if nothing is live then
 * @param series live bytes and resident growth over the measured pass
 * @param usableSizeKnown can this allocator tell a block's usable size? If not, {@code waste} is empty
 * @param waste internal waste per size class (smallest class first), empty when unknown
 */
public record AllocatorReplay(String allocator, long operations, List<Long> passNanos, long medianNanos,
        double nsPerOp, long peakLiveBytes, long endLiveBytes, long rssAtStartBytes, long peakRssGrowthBytes,
        long rssGrowthAtPeakLiveBytes, long rssGrowthAtEndBytes, Double fragmentationAtPeak,
        Double fragmentationAtEnd, List<Sample> series, boolean usableSizeKnown, List<SizeClassWaste> waste) {

    public AllocatorReplay {
        passNanos = List.copyOf(passNanos);
        series = List.copyOf(series);
        waste = List.copyOf(waste);
    }

    /** Usable bytes beyond the requested ones, over every class; -1 when unknown. */
    public long totalWasteBytes() {
        return usableSizeKnown ? waste.stream().mapToLong(SizeClassWaste::wasteBytes).sum() : -1;
    }
}
