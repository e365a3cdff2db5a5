package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

import org.smalloc4j.internal.AllocatorArena;
import org.smalloc4j.internal.Checks;

/**
 * The contract every smalloc4j allocator honours: Rust's {@code GlobalAlloc} fitted to the
 * Foreign Function &amp; Memory API.
 *
 * <h2>Two layers</h2>
 * <ul>
 * <li>The <b>raw layer</b> ({@link #alloc}, {@link #dealloc}, {@link #allocZeroed}, {@link #realloc})
 * speaks in addresses as {@code long}, allocates nothing on the Java heap, and answers 0 when it
 * cannot allocate.</li>
 * <li>The <b>FFM layer</b> ({@link #allocate}, {@link #free}, {@link #reallocate}, {@link #newArena})
 * speaks in {@link MemorySegment}s of exactly the size asked for, zero-filled like the JDK's
 * arenas, and throws {@link OutOfMemoryError} when it cannot allocate.</li>
 * </ul>
 *
 * <h2>Arguments</h2>
 * A {@code byteSize} of 0 is allowed: it gives a valid, freeable block whose address differs from
 * every other live block's start (a bump arena may share). A negative size or old size, or an
 * alignment below 1 or not a power of two, is {@link IllegalArgumentException} and the rejected call
 * changes nothing. A legal request that cannot be met (say {@code Long.MAX_VALUE} bytes) is
 * exhaustion, not bad input. {@link #dealloc} and {@link #realloc} are given the size and alignment
 * the block was allocated with; an allocator may rely on them or ignore them.
 *
 * <h2>NULL</h2>
 * Address 0 and {@link MemorySegment#NULL} are C's NULL: freeing them does nothing and
 * reallocating them allocates.
 *
 * <h2>Foreign pointers</h2>
 * An address this allocator did not hand out, or one inside a block, given to {@code dealloc},
 * {@code free} or {@code realloc}, is {@link IllegalArgumentException} naming the address in hex
 * wherever the allocator can tell (Smalloc always can). It never crashes the JVM, and blocks already
 * allocated keep their contents.
 *
 * <h2>Closing</h2>
 * After a closable allocator's {@link #close()}, every method throws {@link IllegalStateException}
 * ("heap 'name' is closed") but {@code close()} itself, which does nothing the second time. Closing a
 * process-wide allocator does nothing.
 */
public interface NativeAllocator extends SegmentAllocator, AutoCloseable {

    /** The alignment {@link #reallocate(MemorySegment, long)} keeps, like C's {@code malloc}. */
    long DEFAULT_REALLOC_ALIGNMENT = 16;

    // ---------------------------------------------------------------- raw layer

    /**
     * Allocates a block of at least {@code byteSize} bytes aligned to {@code byteAlignment}. Its
     * content is unspecified.
     *
     * @return the block's address, or 0 if the allocator cannot satisfy the request
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is
     *         not a power of two
     * @throws IllegalStateException if this allocator is closed
     */
    long alloc(long byteSize, long byteAlignment);

    /**
     * Gives back a block. Address 0 does nothing.
     *
     * @param address the block's address, as returned by this allocator
     * @param byteSize the size the block was allocated (or last reallocated) with
     * @param byteAlignment the alignment it was allocated with
     * @throws IllegalArgumentException if the size or alignment is invalid, or, where the allocator
     *         can tell, the address is not the start of a live block of this allocator
     * @throws IllegalStateException if this allocator is closed
     */
    void dealloc(long address, long byteSize, long byteAlignment);

    /**
     * As {@link #alloc}, with the first {@code byteSize} bytes set to zero.
     *
     * @implSpec The default calls {@link #alloc} and fills the block with zeros.
     * @return the block's address, or 0 if the allocator cannot satisfy the request
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is
     *         not a power of two
     * @throws IllegalStateException if this allocator is closed
     */
    default long allocZeroed(long byteSize, long byteAlignment) {
        long address = alloc(byteSize, byteAlignment);
        if (address != 0 && byteSize > 0) {
            MemorySegment.ofAddress(address).reinterpret(byteSize).fill((byte) 0);
        }
        return address;
    }

    /**
     * Changes a block's size, keeping its first {@code min(oldSize, newSize)} bytes; the grown tail is
     * unspecified. May return the same address. {@code newSize} 0 gives a valid zero-size block, never
     * 0. When it cannot allocate it returns 0 and the original block stays allocated and intact.
     * Address 0 allocates {@code newSize} bytes.
     *
     * @implSpec The default allocates a new block, copies, and deallocates the old one.
     * @param address the block, or 0
     * @param oldSize the size the block was allocated with
     * @param byteAlignment the block's alignment, kept by the new block
     * @param newSize the size wanted
     * @return the (possibly new) address, or 0 if the allocator cannot satisfy the request
     * @throws IllegalArgumentException if a size is negative, the alignment is not a power of two,
     *         or, where the allocator can tell, the address is not the start of a live block
     * @throws IllegalStateException if this allocator is closed
     */
    default long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        Checks.checkRealloc(oldSize, byteAlignment, newSize);
        long moved = alloc(newSize, byteAlignment);
        if (moved == 0 || address == 0) {
            return moved;
        }
        long keep = Math.min(oldSize, newSize);
        if (keep > 0) {
            MemorySegment.copy(MemorySegment.ofAddress(address).reinterpret(keep), 0,
                    MemorySegment.ofAddress(moved).reinterpret(keep), 0, keep);
        }
        dealloc(address, oldSize, byteAlignment);
        return moved;
    }

    // ---------------------------------------------------------------- FFM layer

    /**
     * A segment of exactly {@code byteSize} bytes, zero-filled, aligned to {@code byteAlignment}.
     * Its scope is the global scope for process-wide allocators and the heap's own for closable
     * ones (dead once the heap closes).
     *
     * @throws OutOfMemoryError naming this allocator and the size if it cannot allocate
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is
     *         not a power of two
     * @throws IllegalStateException if this allocator is closed
     */
    @Override
    default MemorySegment allocate(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        long address = allocZeroed(byteSize, byteAlignment);
        if (address == 0) {
            throw Checks.exhausted(name(), byteSize, byteAlignment);
        }
        return asSegment(address, byteSize);
    }

    /**
     * Gives back a segment that {@link #allocate} or {@link #reallocate} returned (same address and
     * size). {@link MemorySegment#NULL} does nothing.
     *
     * @implSpec The default calls {@link #dealloc} with the segment's address and size and alignment 1.
     * @throws IllegalArgumentException if the segment is a heap segment or, where the allocator can
     *         tell, not a live block of this allocator
     * @throws IllegalStateException if this allocator is closed
     */
    default void free(MemorySegment segment) {
        checkNative(segment);
        dealloc(segment.address(), segment.byteSize(), 1); // NULL: dealloc(0, …) does nothing
    }

    /**
     * {@link #reallocate(MemorySegment, long, long)} with 16-byte alignment, as C's {@code realloc}.
     *
     * @throws OutOfMemoryError naming this allocator and the size if it cannot allocate; the segment
     *         given stays allocated and intact
     * @throws IllegalArgumentException if {@code newByteSize} is negative or the segment is not a
     *         block of this allocator
     * @throws IllegalStateException if this allocator is closed
     */
    default MemorySegment reallocate(MemorySegment segment, long newByteSize) {
        return reallocate(segment, newByteSize, DEFAULT_REALLOC_ALIGNMENT);
    }

    /**
     * A segment of exactly {@code newByteSize} bytes aligned to {@code byteAlignment} holding the
     * first {@code min(old, new)} bytes of {@code segment} followed by zeros. The old segment must
     * not be used afterwards (it may be the same memory). {@link MemorySegment#NULL} allocates.
     *
     * @throws OutOfMemoryError naming this allocator and the size if it cannot allocate; the segment
     *         given stays allocated and intact
     * @throws IllegalArgumentException if {@code newByteSize} is negative, {@code byteAlignment} is
     *         not a power of two, or the segment is not a block of this allocator
     * @throws IllegalStateException if this allocator is closed
     */
    default MemorySegment reallocate(MemorySegment segment, long newByteSize, long byteAlignment) {
        checkNative(segment);
        Checks.checkSizeAndAlignment(newByteSize, byteAlignment);
        long oldSize = segment.address() == 0 ? 0 : segment.byteSize();
        long address = realloc(segment.address(), oldSize, byteAlignment, newByteSize);
        if (address == 0) {
            throw Checks.exhausted(name(), newByteSize, byteAlignment);
        }
        MemorySegment result = asSegment(address, newByteSize);
        if (newByteSize > oldSize) {
            result.asSlice(oldSize).fill((byte) 0);
        }
        return result;
    }

    /**
     * A confined {@link Arena} whose allocations come from this allocator and all go back when it
     * closes; its segments are dead after that. Only the creating thread may use it.
     *
     * @throws IllegalStateException if this allocator is closed
     */
    default Arena newArena() {
        return new AllocatorArena(this);
    }

    /**
     * A segment over {@code byteSize} bytes at {@code address}, a block this allocator handed out,
     * with the scope this allocator gives its segments (global, or the heap's own).
     *
     * @implSpec The default gives a global-scope segment.
     * @throws IllegalStateException if this allocator is closed
     */
    default MemorySegment asSegment(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }

    /** A short name for messages and reports: {@code "smalloc"}, {@code "system"}, … */
    String name();

    /**
     * Closes a closable heap: its memory goes back to the system and every later call but
     * {@code close()} throws {@link IllegalStateException}. A second call does nothing.
     *
     * @implSpec The default does nothing, as is right for process-wide allocators.
     */
    @Override
    default void close() {
    }

    private static void checkNative(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("segment " + segment + " is a heap segment, not a native block");
        }
    }
}
