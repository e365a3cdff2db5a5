package org.smalloc4j.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One row of the results: a case's timing, how it compares with the fastest allocator of its group
 * (the same workload, size and thread count), and how much the peak RSS grew while it ran.
 *
 * @param measurement the case's timing
 * @param peakRssGrowthBytes peak RSS during the case minus RSS before it (see {@link PeakRss}); empty when not measured
 * @param ratioToBest this case's ns/op divided by the fastest ns/op of its group: 1 for the fastest, above 1 for the others
 * @param best is this the fastest of its group (ties are all best)?
 */
public record CaseResult(Measurement measurement, OptionalLong peakRssGrowthBytes, double ratioToBest, boolean best) {

    private static final double BYTES_PER_MIB = 1024.0 * 1024.0;

    public CaseResult {
        if (!(ratioToBest >= 1)) {
            throw new IllegalArgumentException("ratio to best " + ratioToBest + " is below 1");
        }
    }

    /**
     * Ranks one group: the same workload (and size) and thread count, one measurement per allocator.
     *
     * @param peakRssGrowthBytes one entry per measurement, in the same order
     * @throws IllegalArgumentException if the group is empty, the lists differ in length, or the
     *         measurements are not of one workload, size and thread count
     */
    public static List<CaseResult> rankGroup(List<Measurement> group, List<OptionalLong> peakRssGrowthBytes) {
        if (group.isEmpty()) {
            throw new IllegalArgumentException("an empty group has no best");
        }
        if (group.size() != peakRssGrowthBytes.size()) {
            throw new IllegalArgumentException(group.size() + " measurements but " + peakRssGrowthBytes.size()
                    + " peak RSS figures");
        }
        Measurement first = group.getFirst();
        double fastest = Double.POSITIVE_INFINITY;
        for (Measurement m : group) {
            if (!m.workload().name().equals(first.workload().name())
                    || !m.workload().sizeLabel().equals(first.workload().sizeLabel()) || m.threads() != first.threads()) {
                throw new IllegalArgumentException("a group mixes " + first.workload().name() + " "
                        + first.workload().sizeLabel() + " on " + first.threads() + " threads with "
                        + m.workload().name() + " " + m.workload().sizeLabel() + " on " + m.threads() + " threads");
            }
            fastest = Math.min(fastest, m.nsPerOp());
        }
        List<CaseResult> ranked = new ArrayList<>(group.size());
        for (int i = 0; i < group.size(); i++) {
            double nsPerOp = group.get(i).nsPerOp();
            ranked.add(new CaseResult(group.get(i), peakRssGrowthBytes.get(i), nsPerOp / fastest, nsPerOp == fastest));
        }
        return List.copyOf(ranked);
    }

    /** The workload's name. */
    public String workload() {
        return measurement.workload().name();
    }

    /** The size column: the block size in bytes, or the workload's size range. */
    public String size() {
        return measurement.workload().sizeLabel();
    }

    public int threads() {
        return measurement.threads();
    }

    public String allocator() {
        return measurement.allocatorName();
    }

    /** Nanoseconds per operation per thread: the median of the rounds. */
    public double nsPerOp() {
        return measurement.nsPerOp();
    }

    /** Operations per second of all threads together: threads x 10^9 / ns/op. */
    public double opsPerSecond() {
        return measurement.threads() * 1e9 / measurement.nsPerOp();
    }

    /** (slowest - fastest round) / median, a fraction. */
    public double spread() {
        return measurement.spread();
    }

    /** The peak RSS growth in MiB; empty when not measured. */
    public OptionalDouble peakRssGrowthMiB() {
        return peakRssGrowthBytes.isPresent()
                ? OptionalDouble.of(peakRssGrowthBytes.getAsLong() / BYTES_PER_MIB)
                : OptionalDouble.empty();
    }
}
