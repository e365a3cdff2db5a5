package org.smalloc4j;

import java.util.Objects;

/**
 * One record of a trace that a {@link TrackingAllocator} wrote and a {@link TraceReader} reads back.
 *
 * <p>Blocks are named by id, not by address, so that a replay on another allocator can map each id
 * to the address it got: the n-th {@link Alloc} of a trace (counting from 0) creates block n, and a
 * block keeps its id through every {@link Realloc} until its {@link Free}. Threads are named by a
 * small index that a {@link ThreadStart} introduces before the thread's first record. Times are
 * nanoseconds since the trace started (monotonic, never decreasing from one record to the next).
 */
public sealed interface TraceEvent {

    /** A new block of {@code byteSize} bytes aligned to {@code byteAlignment}; zero-filled if {@code zeroed}. */
    record Alloc(int thread, long nanos, long blockId, long byteSize, long byteAlignment, boolean zeroed)
            implements TraceEvent {
    }

    /** Block {@code blockId}, of {@code byteSize} bytes, given back. */
    record Free(int thread, long nanos, long blockId, long byteSize) implements TraceEvent {
    }

    /**
     * Block {@code blockId} resized from {@code oldSize} to {@code newSize} bytes with alignment
     * {@code byteAlignment}; it may have moved, and keeps its id.
     */
    record Realloc(int thread, long nanos, long blockId, long oldSize, long newSize, long byteAlignment)
            implements TraceEvent {
    }

    /**
     * A request that got nothing (the inner allocator was exhausted, or the byte limit was reached);
     * it changed no block. For a failed realloc, {@code blockId} and {@code oldSize} name the block,
     * which stayed as it was; for a failed allocation they are -1 and 0.
     */
    record Failed(int thread, long nanos, Kind kind, long blockId, long oldSize, long byteSize, long byteAlignment)
            implements TraceEvent {

        /** What the failed request was. */
        public enum Kind { ALLOC, ALLOC_ZEROED, REALLOC }

        public Failed {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** Thread {@code index} of this trace is the JVM thread {@code threadId} called {@code name}. */
    record ThreadStart(int index, long threadId, String name) implements TraceEvent {
        public ThreadStart {
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * The last record of a complete trace: {@code records} records came before it. A trace without
     * one was cut short (the program died before the tracker closed).
     */
    record End(long nanos, long records) implements TraceEvent {
    }
}
