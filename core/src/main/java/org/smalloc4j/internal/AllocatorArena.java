package org.smalloc4j.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import org.smalloc4j.NativeAllocator;

/**
 * A confined {@link Arena} whose memory comes from a {@link NativeAllocator}: each allocation is
 * one block of the allocator, every block is given back when the arena closes, and from then on
 * the arena's segments are dead (touching them throws {@link IllegalStateException}), as with
 * {@link Arena#ofConfined()}. Only the creating thread may allocate or close
 * ({@link WrongThreadException} otherwise).
 */
public final class AllocatorArena implements Arena {

    /** How a block goes back when the arena closes. */
    @FunctionalInterface
    public interface BlockReturn {
        void giveBack(long address, long byteSize, long byteAlignment);
    }

    private final NativeAllocator allocator;
    private final BlockReturn blockReturn;
    private final Runnable afterClose;
    private final Arena scope = Arena.ofConfined();
    private final Thread owner = Thread.currentThread();

    /**
     * @param allocator where the blocks come from (its {@code allocZeroed})
     * @param blockReturn how each block goes back at close
     * @param afterClose run once after every block went back
     */
    public AllocatorArena(NativeAllocator allocator, BlockReturn blockReturn, Runnable afterClose) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.blockReturn = Objects.requireNonNull(blockReturn, "blockReturn");
        this.afterClose = Objects.requireNonNull(afterClose, "afterClose");
    }

    /** An arena over {@code allocator} that gives its blocks back with {@code dealloc}. */
    public AllocatorArena(NativeAllocator allocator) {
        this(allocator, allocator::dealloc, () -> { });
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        // fail before taking a block, so that a closed arena or a wrong thread leaks nothing
        if (!scope.scope().isAlive()) {
            throw new IllegalStateException("arena over '" + allocator.name() + "' is closed");
        }
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("arena over '" + allocator.name() + "' is confined to " + owner);
        }
        long address = allocator.allocZeroed(byteSize, byteAlignment);
        if (address == 0) {
            throw Checks.exhausted(allocator.name(), byteSize, byteAlignment);
        }
        return MemorySegment.ofAddress(address).reinterpret(byteSize, scope,
                segment -> blockReturn.giveBack(address, byteSize, byteAlignment));
    }

    @Override
    public MemorySegment.Scope scope() {
        return scope.scope();
    }

    @Override
    public void close() {
        scope.close();
        afterClose.run();
    }

    @Override
    public String toString() {
        return "Arena over '" + allocator.name() + "'";
    }
}
