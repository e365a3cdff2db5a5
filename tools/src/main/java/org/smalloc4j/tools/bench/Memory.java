package org.smalloc4j.tools.bench;

import java.lang.foreign.MemorySegment;

import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Reads and writes at raw addresses without making a segment per block: one segment spans the whole
 * address space, so a workload's hot loop allocates nothing on the Java heap.
 */
final class Memory {

    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** An aligned long at an address, for stores the JIT must not merge away. */
    private static final VarHandle ALIGNED_LONG = JAVA_LONG.varHandle();

    private Memory() {
    }

    static void putByte(long address, byte value) {
        EVERYTHING.set(JAVA_BYTE, address, value);
    }

    static long getLong(long address) {
        return EVERYTHING.get(JAVA_LONG_UNALIGNED, address);
    }

    static void putLong(long address, long value) {
        EVERYTHING.set(JAVA_LONG_UNALIGNED, address, value);
    }

    /** Stores a long at an 8-byte aligned address; every such store happens (none is merged with the next). */
    static void putLongOpaque(long address, long value) {
        ALIGNED_LONG.setOpaque(EVERYTHING, address, value);
    }
}
