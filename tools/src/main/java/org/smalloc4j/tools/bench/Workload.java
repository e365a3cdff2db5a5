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

    /**
     * A worker for one thread, made on the thread that will run it.
     *
     * @param allocator the allocator under test
     * @param seed this thread's seed, derived from the run's seed and the thread's index
     */
    Worker newWorker(NativeAllocator allocator, long seed);

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
    }
}
