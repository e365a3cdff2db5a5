package org.smalloc4j;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A test-only decorator that counts calls and bytes (as callers declare them), exact under many
 * threads; a call the inner allocator rejects changes no counter. Deliberately simpler than
 * {@link TrackingAllocator} (no limit, no stacks, no trace), so that the upcall stubs' own tests do not
 * depend on the tracker; the SQLite and zstd tests use the tracker itself.
 */
final class CountingAllocator implements NativeAllocator {

    private final NativeAllocator inner;
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong allocationCount = new AtomicLong();
    private final AtomicLong freeCount = new AtomicLong();
    private final AtomicLong reallocCount = new AtomicLong();
    private final AtomicLong failedCount = new AtomicLong();

    CountingAllocator(NativeAllocator inner) {
        this.inner = inner;
    }

    static CountingAllocator of(NativeAllocator inner) {
        return new CountingAllocator(inner);
    }

    @Override
    public long alloc(long byteSize, long byteAlignment) {
        return counted(inner.alloc(byteSize, byteAlignment), byteSize);
    }

    @Override
    public long allocZeroed(long byteSize, long byteAlignment) {
        return counted(inner.allocZeroed(byteSize, byteAlignment), byteSize);
    }

    private long counted(long address, long byteSize) {
        if (address == 0) {
            failedCount.incrementAndGet();
        } else {
            allocationCount.incrementAndGet();
            liveBytes.addAndGet(byteSize);
        }
        return address;
    }

    @Override
    public void dealloc(long address, long byteSize, long byteAlignment) {
        inner.dealloc(address, byteSize, byteAlignment);
        if (address != 0) {
            freeCount.incrementAndGet();
            liveBytes.addAndGet(-byteSize);
        }
    }

    @Override
    public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        long moved = inner.realloc(address, oldSize, byteAlignment, newSize);
        if (moved == 0) {
            failedCount.incrementAndGet();
        } else if (address == 0) {
            allocationCount.incrementAndGet();
            liveBytes.addAndGet(newSize);
        } else {
            reallocCount.incrementAndGet();
            liveBytes.addAndGet(newSize - oldSize);
        }
        return moved;
    }

    long liveBytes() {
        return liveBytes.get();
    }

    long allocationCount() {
        return allocationCount.get();
    }

    long freeCount() {
        return freeCount.get();
    }

    long reallocCount() {
        return reallocCount.get();
    }

    long failedCount() {
        return failedCount.get();
    }

    @Override
    public String name() {
        return "counting:" + inner.name();
    }

    @Override
    public String toString() {
        return name() + "[live " + liveBytes() + " B, " + allocationCount() + " allocations, " + freeCount()
                + " frees, " + reallocCount() + " reallocs, " + failedCount() + " failed]";
    }
}
