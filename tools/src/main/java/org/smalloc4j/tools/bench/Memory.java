package org.smalloc4j.tools.bench;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Reads and writes at raw addresses without making a segment per block: one segment spans the whole
 * address space, so a workload's hot loop allocates nothing on the Java heap.
 */
final class Memory {

    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

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
}
