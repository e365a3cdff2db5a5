package org.smalloc4j;

import java.util.HashMap;
import java.util.Map;

/**
 * A test decorator that counts the calls an allocator receives and knows its live blocks, to see
 * what a {@link BumpArena} asks of its parent.
 */
final class ParentCallCounter implements NativeAllocator {

    private final NativeAllocator inner;
    private final Map<Long, Long> live = new HashMap<>(); // address -> size
    private long allocCalls;
    private long deallocCalls;
    private long reallocCalls;

    ParentCallCounter(NativeAllocator inner) {
        this.inner = inner;
    }

    @Override
    public long alloc(long byteSize, long byteAlignment) {
        allocCalls++;
        return record(inner.alloc(byteSize, byteAlignment), byteSize);
    }

    @Override
    public long allocZeroed(long byteSize, long byteAlignment) {
        allocCalls++;
        return record(inner.allocZeroed(byteSize, byteAlignment), byteSize);
    }

    @Override
    public void dealloc(long address, long byteSize, long byteAlignment) {
        deallocCalls++;
        inner.dealloc(address, byteSize, byteAlignment);
        if (address != 0 && live.remove(address) == null) {
            throw new AssertionError("dealloc of " + Long.toHexString(address) + ", not a live block of the parent");
        }
    }

    @Override
    public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        reallocCalls++;
        long moved = inner.realloc(address, oldSize, byteAlignment, newSize);
        if (moved != 0) {
            if (address != 0 && live.remove(address) == null) {
                throw new AssertionError("realloc of " + Long.toHexString(address) + ", not a live block of the parent");
            }
            live.put(moved, newSize);
        }
        return moved;
    }

    private long record(long address, long byteSize) {
        if (address != 0) {
            live.put(address, byteSize);
        }
        return address;
    }

    /** Blocks allocated and not freed. */
    int liveBlocks() {
        return live.size();
    }

    /** Is {@code address} inside a live block? */
    boolean inLiveBlock(long address) {
        return live.entrySet().stream().anyMatch(e -> e.getKey() <= address && address < e.getKey() + Math.max(1, e.getValue()));
    }

    /** Every call so far. */
    long calls() {
        return allocCalls + deallocCalls + reallocCalls;
    }

    long allocCalls() {
        return allocCalls;
    }

    @Override
    public String name() {
        return "counting";
    }
}
