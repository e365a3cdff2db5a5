package org.smalloc4j.tools.bench;

import java.util.Arrays;

/**
 * The timing of one case: nanoseconds per operation per thread, one figure per round (the mean
 * over the case's threads).
 */
public record Measurement(Workload workload, String allocatorName, int threads, double[] roundNsPerOp) {

    public Measurement {
        if (roundNsPerOp.length == 0) {
            throw new IllegalArgumentException("no rounds");
        }
        roundNsPerOp = roundNsPerOp.clone();
    }

    /** Nanoseconds per operation per thread, one figure per round, in round order (a copy). */
    @Override
    public double[] roundNsPerOp() {
        return roundNsPerOp.clone();
    }

    /** The median over rounds: what the table shows. */
    public double nsPerOp() {
        double[] sorted = roundNsPerOp();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /** How far the rounds lie apart: (slowest - fastest) / median. */
    public double spread() {
        double min = Arrays.stream(roundNsPerOp).min().orElseThrow();
        double max = Arrays.stream(roundNsPerOp).max().orElseThrow();
        return (max - min) / nsPerOp();
    }
}
