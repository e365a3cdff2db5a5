package org.smalloc4j.tools.replay;

/**
 * How a replay runs on each allocator.
 *
 * @param warmup untimed passes between the measured pass and the timed ones, for the JIT; at least 0
 * @param repeat timed passes; at least 1
 * @param sampleEvery operations between two samples of the series (new peaks are sampled besides); at least 1
 * @param threadsAsRecorded run each operation on a thread of its own recorded thread (one replay thread
 *        per recorded thread, taking turns in trace order) instead of all on one thread
 */
public record ReplaySettings(int warmup, int repeat, int sampleEvery, boolean threadsAsRecorded) {

    public ReplaySettings {
        if (warmup < 0 || repeat < 1 || sampleEvery < 1) {
            throw new IllegalArgumentException("warm-up " + warmup + ", repeat " + repeat + ", sample every "
                    + sampleEvery + ": warm-up must not be negative, repeat and sample every at least 1");
        }
    }
}
