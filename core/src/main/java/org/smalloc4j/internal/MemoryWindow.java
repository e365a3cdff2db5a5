package org.smalloc4j.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A view of one reserved range, addressed by offsets from its start, through which the heap does
 * every load, store and compare-and-set. It has two forms:
 * <ul>
 * <li><b>scoped</b>: accesses go through a segment of the heap's shared arena, so once the heap is
 *     closed they throw {@link IllegalStateException} instead of touching unmapped memory;</li>
 * <li><b>global</b>: for memory that is never unmapped (the global heap), accesses go through one
 *     {@code static final} segment spanning all memory, which the JIT treats as a constant: no
 *     bounds, liveness or alignment loads are left on the hot path (measured: a pop+push pair
 *     8.9 ns instead of 11-13 ns through a segment held in a field).</li>
 * </ul>
 * Each method tests the form first; the test is on a final field and always predicted.
 */
public final class MemoryWindow {

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    /** All of memory, global scope: only for ranges that stay mapped for the life of the process. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final boolean global;
    private final long start;
    private final long byteSize;
    private final MemorySegment scoped;

    private MemoryWindow(boolean global, long start, long byteSize, MemorySegment scoped) {
        this.global = global;
        this.start = start;
        this.byteSize = byteSize;
        this.scoped = scoped;
    }

    /** A window on memory that stays mapped as long as the process lives. */
    public static MemoryWindow global(long start, long byteSize) {
        return new MemoryWindow(true, start, byteSize, null);
    }

    /** A window whose accesses fail once {@code segment}'s scope is closed. */
    public static MemoryWindow scoped(MemorySegment segment) {
        return new MemoryWindow(false, segment.address(), segment.byteSize(), segment);
    }

    public long start() {
        return start;
    }

    public long byteSize() {
        return byteSize;
    }

    public long getLong(long offset) {
        return global ? (long) LONG.get(EVERYTHING, start + offset) : (long) LONG.get(scoped, offset);
    }

    public long getLongAcquire(long offset) {
        return global ? (long) LONG.getAcquire(EVERYTHING, start + offset) : (long) LONG.getAcquire(scoped, offset);
    }

    public long getLongVolatile(long offset) {
        return global ? (long) LONG.getVolatile(EVERYTHING, start + offset) : (long) LONG.getVolatile(scoped, offset);
    }

    public void setLong(long offset, long value) {
        if (global) {
            LONG.set(EVERYTHING, start + offset, value);
        } else {
            LONG.set(scoped, offset, value);
        }
    }

    public boolean casLong(long offset, long expected, long value) {
        return global
                ? LONG.compareAndSet(EVERYTHING, start + offset, expected, value)
                : LONG.compareAndSet(scoped, offset, expected, value);
    }

    public long getAndBitwiseOrLong(long offset, long bits) {
        return global
                ? (long) LONG.getAndBitwiseOr(EVERYTHING, start + offset, bits)
                : (long) LONG.getAndBitwiseOr(scoped, offset, bits);
    }

    public long getAndBitwiseAndLong(long offset, long bits) {
        return global
                ? (long) LONG.getAndBitwiseAnd(EVERYTHING, start + offset, bits)
                : (long) LONG.getAndBitwiseAnd(scoped, offset, bits);
    }

    public int getInt(long offset) {
        return global ? (int) INT.get(EVERYTHING, start + offset) : (int) INT.get(scoped, offset);
    }

    public void setInt(long offset, int value) {
        if (global) {
            INT.set(EVERYTHING, start + offset, value);
        } else {
            INT.set(scoped, offset, value);
        }
    }

    /** A segment over {@code byteSize} bytes at {@code offset}, with this window's scope. */
    public MemorySegment slice(long offset, long byteSize) {
        if (global) {
            // the global window still checks its own bounds for slices handed to callers
            java.util.Objects.checkFromIndexSize(offset, byteSize, this.byteSize);
            return EVERYTHING.asSlice(start + offset, byteSize);
        }
        return scoped.asSlice(offset, byteSize);
    }

    public void fill(long offset, long byteSize, byte value) {
        slice(offset, byteSize).fill(value);
    }

    /** Copies within the window ({@code memmove} semantics). */
    public void copy(long fromOffset, long toOffset, long byteSize) {
        MemorySegment.copy(slice(fromOffset, byteSize), 0, slice(toOffset, byteSize), 0, byteSize);
    }
}
