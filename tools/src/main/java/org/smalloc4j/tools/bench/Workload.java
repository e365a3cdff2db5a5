package org.smalloc4j.tools.bench;

import org.smalloc4j.NativeAllocator;

/**
 * A benchmark workload: a loop of allocator operations that {@link CaseRunner} times. Every thread
 * of a run gets a {@link Worker} of its own, made from the same seed for every allocator, so that
 * all allocators see the same operations.
 *
 * <p>To add a workload (larson, xmalloc, smalloc's a/ad/adr/aww/adww/adrww, …): implement this
 * interface in a class of its own and register it in {@link Workloads}.
 */
public interface Workload {

    /** The workload's name on the command line and in the table: {@code "pairs"}, {@code "mixed"}, … */
    String name();

    /** What the table's size column shows: the block size in bytes, or a short description of a mix. */
    String sizeLabel();

    /** One line for {@code --help}: what a thread does and what one operation is. */
    String description();

    /** The most threads this workload runs with; larger thread counts are skipped. */
    default int maxThreads() {
        return Integer.MAX_VALUE;
    }

    /**
     * A worker for one thread, made on the thread that will run it. Workloads whose threads share
     * state (queues, hand-over cells) override {@link #newCase} instead.
     *
     * @param allocator the allocator under test
     * @param seed this thread's seed, derived from the run's seed and the thread's index
     */
    default Worker newWorker(NativeAllocator allocator, long seed) {
        throw new UnsupportedOperationException(name() + " makes its workers through newCase");
    }

    /**
     * The state of one case (this workload on one allocator with {@code threads} threads), made
     * once before any worker. By default the threads share nothing.
     */
    default Case newCase(NativeAllocator allocator, int threads) {
        return (threadIndex, seed) -> newWorker(allocator, seed);
    }

    /** What the threads of one case share; made by {@link #newCase}. */
    @FunctionalInterface
    interface Case {

        /** A worker for thread {@code threadIndex} (0 .. threads - 1), made on that thread. */
        Worker newWorker(int threadIndex, long seed);

        /**
         * Checks and frees the blocks the case itself still holds (in queues, hand-over cells).
         * Called once, after every worker's {@link Worker#finish}.
         *
         * @throws BenchFailure if a block lost its content
         */
        default void finish() {
        }
    }

    /** One thread's share of a workload. Used by the thread that made it, and by no other. */
    interface Worker {

        /**
         * Performs {@code ops} operations (what an operation is, each workload says). Nothing is
         * allocated on the Java heap here.
         *
         * @throws BenchFailure if the allocator returns 0 or a block loses its content
         */
        void run(long ops);

        /**
         * Checks and frees every block still live. Called once, after the last {@link #run}.
         *
         * @throws BenchFailure if a block lost its content
         */
        void finish();

        /**
         * Nanoseconds this worker spent so far on housekeeping that is not part of what it measures
         * (freeing the blocks of an allocate-only workload); the runner leaves them out of the time.
         */
        default long untimedNanos() {
            return 0;
        }
    }
}
