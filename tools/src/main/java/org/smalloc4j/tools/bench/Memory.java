package org.smalloc4j.tools.bench;

import java.lang.foreign.MemorySegment;

import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Reads and writes at raw addresses without making a segment per block: one segment spans the whole
 * address space, so a workload's hot loop allocates nothing on the Java heap. Public for the
 * replay engine, which stamps its blocks the same way.
 */
public final class Memory {

    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** An aligned long at an address, for stores the JIT must not merge away. */
    private static final VarHandle ALIGNED_LONG = JAVA_LONG.varHandle();

    private Memory() {
    }

    /** The byte at an address. */
    public static byte getByte(long address) {
        return EVERYTHING.get(JAVA_BYTE, address);
    }

    /** Stores a byte at an address. */
    public static void putByte(long address, byte value) {
        EVERYTHING.set(JAVA_BYTE, address, value);
    }

    /** The long at an address, aligned or not (native byte order). */
    public static long getLong(long address) {
        return EVERYTHING.get(JAVA_LONG_UNALIGNED, address);
    }

    /** Stores a long at an address, aligned or not (native byte order). */
    public static void putLong(long address, long value) {
        EVERYTHING.set(JAVA_LONG_UNALIGNED, address, value);
    }

    /** Stores a long at an 8-byte aligned address; every such store happens (none is merged with the next). */
    static void putLongOpaque(long address, long value) {
        ALIGNED_LONG.setOpaque(EVERYTHING, address, value);
    }
}
