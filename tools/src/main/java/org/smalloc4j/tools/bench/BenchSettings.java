package org.smalloc4j.tools.bench;

import java.time.Duration;

/**
 * How each case (one workload, allocator and thread count) is timed.
 *
 * @param warmup time every thread runs the workload before the rounds, for the JIT
 * @param roundTime how long a round runs, when {@code opsPerRound} is 0
 * @param opsPerRound operations each thread performs per round; 0 = run for {@code roundTime}
 * @param rounds timed rounds; the table shows their median
 * @param seed the seed of every workload's random plan; the same for every allocator
 */
public record BenchSettings(Duration warmup, Duration roundTime, long opsPerRound, int rounds, long seed) {

    public BenchSettings {
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("warm-up " + warmup + " is negative");
        }
        if (opsPerRound < 0) {
            throw new IllegalArgumentException("ops per round " + opsPerRound + " is negative");
        }
        if (opsPerRound == 0 && (roundTime.isZero() || roundTime.isNegative())) {
            throw new IllegalArgumentException("round time " + roundTime + " is not positive");
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds " + rounds + " is below 1");
        }
    }

    /** Are rounds a fixed number of operations rather than a fixed time? */
    public boolean fixedOps() {
        return opsPerRound > 0;
    }

    /** The seed of thread {@code index}: distinct per thread, the same for every allocator. */
    public long threadSeed(int index) {
        return seed + 0x9E37_79B9_7F4A_7C15L * (index + 1);
    }
}
