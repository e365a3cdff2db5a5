package org.smalloc4j;

/**
 * A {@link BumpArena} over {@code Smalloc.global()} with default chunks passes the shared contract. A
 * bump arena is closable, shares addresses between zero-size blocks, and cannot tell foreign pointers
 * inside its chunks. Subclasses change the parent and the chunk size.
 */
class BumpArenaContractTest extends AllocatorContract {

    /** The allocator chunks come from. */
    protected NativeAllocator parent() {
        return Smalloc.global();
    }

    protected long chunkBytes() {
        return BumpArena.DEFAULT_CHUNK_BYTES;
    }

    @Override
    protected NativeAllocator createAllocator() {
        return BumpArena.of(parent(), chunkBytes());
    }

    @Override
    protected boolean closable() {
        return true;
    }

    @Override
    protected boolean detectsForeignPointers() {
        return false; // a bump arena keeps no record of the blocks inside its chunks
    }

    @Override
    protected boolean zeroSizeBlocksAreDistinct() {
        return false; // a size-0 block starts where the next block will
    }
}
