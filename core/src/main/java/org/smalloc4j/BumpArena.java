package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import org.smalloc4j.internal.AllocatorArena;
import org.smalloc4j.internal.BlockTable;
import org.smalloc4j.internal.Checks;

/**
 * A bump-pointer arena over chunks taken from a parent allocator: allocation is an add and a bounds
 * check, and {@link #reset()} frees everything at once. It is both an {@link Arena} (confined, like
 * {@link Arena#ofConfined()}) and a {@link NativeAllocator}, so code written against either takes it.
 *
 * <pre>
 *   chunk (chunkBytes from the parent)
 *   +--------+-----+----------+-------+---------------------------+
 *   | block  | pad | block    | block |       free                |
 *   +--------+-----+----------+-------+---------------------------+
 *   ^ chunk base                       ^ top (next block, aligned up)  ^ chunk end
 * </pre>
 *
 * <p><b>Allocation.</b> A request is aligned up from {@code top} in the current chunk; when it does not
 * fit, a new chunk of {@link #chunkBytes()} (64 KiB by default) comes from the parent and the rest of
 * the old chunk stays unused until {@code reset()}. A request that would not fit even in an empty chunk
 * ({@code byteSize + byteAlignment - 1 >= chunkBytes}) goes straight to the parent as a block of its own:
 * a <i>large block</i>, kept in a table and freed by {@link #dealloc}, {@code reset()} or
 * {@code close()}, whichever comes first. Zero-size blocks may share an address with the next block.
 *
 * <p><b>Freeing.</b> {@link #dealloc} of the block allocated last rolls {@code top} back (once: the
 * block before it is not known); of a large block gives it to the parent; of any other block does
 * nothing, its bytes wait for {@code reset()}. {@link #realloc} of the block allocated last grows or
 * shrinks it in place while it fits the chunk; other blocks move (new block, copy).
 *
 * <p><b>Generations.</b> Segments are handed out in the scope of the current <i>generation</i>
 * ({@link #scope()}), a confined scope that {@link #reset()} and {@link #close()} close: a segment
 * allocated before either is dead afterwards, and touching it throws {@link IllegalStateException},
 * never reads reused memory. Raw addresses have no such guard: using one after {@code reset()} is
 * the caller's bug, as in C. Arenas of {@link #newArena()} close with the generation too; closing one
 * of them later throws {@link IllegalStateException}, as closing a closed arena does.
 *
 * <p><b>Costs.</b> {@code alloc} is an alignment round-up, one comparison and three stores after the
 * argument and thread checks; {@code allocate} adds zero-filling and a segment. {@code reset()} is
 * O(1) in the number of blocks: it keeps the current chunk, gives every other chunk and every live
 * large block back to the parent (one parent call each, so O(chunks) when the arena outgrew one
 * chunk; none at all in the steady state of an arena that fits one chunk per generation) and opens a
 * new scope. Chunks are not zeroed by the parent: {@code allocZeroed} and {@code allocate} fill the
 * block with zeros, as the JDK's arenas do.
 *
 * <p><b>Confinement and closing.</b> Only the creating thread may call it (others get
 * {@link WrongThreadException}); the parent is called from that thread alone. {@code close()} gives
 * every chunk and large block back to the parent; from then on every method but {@code close()},
 * {@link #name()}, {@link #scope()} and {@link #chunkBytes()} throws {@link IllegalStateException}
 * ("heap 'bump:…' is closed"). Unlike {@link Arena#close()}, a second {@code close()} does nothing,
 * as the allocator contract has it. The parent is never closed by this arena.
 *
 * <p><b>Foreign pointers are not detected</b> for blocks inside chunks (a bump arena keeps no record
 * of them); a large-sized block that is not in the table is rejected ({@link IllegalArgumentException}).
 * Freeing or reallocating a segment whose scope is dead is rejected too.
 */
public final class BumpArena implements Arena, NativeAllocator {

    /**
     * 64 KiB: small enough for an arena per request or per task, below glibc's mmap threshold (so the
     * libc parent serves chunks from its heap), and a single slot of Smalloc's 64 KiB size class.
     */
    public static final long DEFAULT_CHUNK_BYTES = 64 << 10;
    /** Chunks are asked for at malloc's alignment: the cheapest request of every parent. */
    private static final long CHUNK_ALIGNMENT = 16;

    private final NativeAllocator parent;
    private final long chunkBytes;
    private final String name;
    private Thread owner; // null once closed: one comparison checks both thread and state

    // the current chunk is [chunkEnd - chunkBytes, chunkEnd); with no chunk yet, top > chunkEnd, so nothing fits
    private long top = 1;
    private long chunkEnd;
    // the block allocated last, [lastStart, top), and the top before it; lastStart 0: none to roll back
    private long lastStart;
    private long lastFrom;

    private long[] chunks = new long[4]; // the current chunk last
    private int chunkCount;
    private final BlockTable largeBlocks = new BlockTable();
    private final List<Arena> openArenas = new ArrayList<>();
    private Arena generation = Arena.ofConfined();

    private BumpArena(NativeAllocator parent, long chunkBytes) {
        this.parent = Objects.requireNonNull(parent, "parent");
        if (chunkBytes <= 0) {
            throw new IllegalArgumentException("chunkBytes " + chunkBytes + " is not positive");
        }
        this.chunkBytes = chunkBytes;
        this.name = "bump:" + parent.name();
        this.owner = Thread.currentThread();
    }

    /**
     * A bump arena over {@code parent} with chunks of {@link #DEFAULT_CHUNK_BYTES} (64 KiB), confined to
     * the calling thread. No chunk is taken before the first allocation.
     */
    public static BumpArena of(NativeAllocator parent) {
        return new BumpArena(parent, DEFAULT_CHUNK_BYTES);
    }

    /**
     * A bump arena over {@code parent} with chunks of {@code chunkBytes}, confined to the calling thread.
     * Requests that do not fit an empty chunk go to the parent one by one.
     *
     * @throws IllegalArgumentException if {@code chunkBytes} is not positive
     */
    public static BumpArena of(NativeAllocator parent, long chunkBytes) {
        return new BumpArena(parent, chunkBytes);
    }

    // ---------------------------------------------------------------- raw layer

    @Override
    public long alloc(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        checkOwner();
        return bump(byteSize, byteAlignment);
    }

    @Override
    public long allocZeroed(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        checkOwner();
        long from = top;
        long start = (from + byteAlignment - 1) & -byteAlignment;
        if (byteSize < chunkEnd - start) {
            take(start, byteSize, from);
            zero(start, byteSize);
            return start;
        }
        return allocSlow(byteSize, byteAlignment, true);
    }

    /**
     * {@inheritDoc} The block allocated last is rolled back (its bytes are handed out again); a large
     * block goes back to the parent; any other block stays until {@link #reset()}.
     *
     * @throws IllegalArgumentException if the size and alignment make it a large block and the address
     *         is not one
     */
    @Override
    public void dealloc(long address, long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        checkOwner();
        if (address == 0 || rollBack(address, byteSize)) {
            return;
        }
        int large = largeBlocks.find(address);
        if (large >= 0) {
            freeLarge(large);
        } else if (isLarge(byteSize, byteAlignment) && !inChunk(address)) {
            // a request "large" for an empty chunk may still have been bumped where the current chunk
            // happened to have an aligned start: only an address in no chunk is foreign
            throw Checks.foreign(name, address, "of " + byteSize + " bytes is not a large block of");
        }
    }

    /** Is {@code address} inside one of this generation's chunks? */
    private boolean inChunk(long address) {
        for (int i = 0; i < chunkCount; i++) {
            if (Long.compareUnsigned(address - chunks[i], chunkBytes) < 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@inheritDoc} The block allocated last grows or shrinks in place while it stays in its chunk and is
     * aligned as asked; a large block uses the parent's realloc while it stays large; any other block
     * moves to a new one (of this arena, or a large block of the parent).
     */
    @Override
    public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        Checks.checkRealloc(oldSize, byteAlignment, newSize);
        checkOwner();
        if (address == 0) {
            return bump(newSize, byteAlignment);
        }
        if (isLast(address, oldSize) && (address & (byteAlignment - 1)) == 0
                && newSize < chunkEnd - address && !isLarge(newSize, byteAlignment)) {
            top = address + newSize;
            return address;
        }
        int large = largeBlocks.find(address);
        if (large >= 0) {
            return reallocLarge(large, byteAlignment, newSize);
        }
        long moved = bump(newSize, byteAlignment);
        if (moved != 0) {
            copy(address, moved, Math.min(oldSize, newSize));
            rollBack(address, oldSize); // the old block may still be the last one: the new one was large
        }
        return moved;
    }

    // ---------------------------------------------------------------- FFM layer

    /**
     * A zero-filled segment of exactly {@code byteSize} bytes in the current generation's scope: dead
     * after {@link #reset()} or {@link #close()}.
     *
     * @throws OutOfMemoryError naming this arena and the size if the parent cannot give a chunk or block
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a
     *         power of two
     * @throws IllegalStateException if this arena is closed
     * @throws WrongThreadException if called from a thread other than the creating one
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        long address = allocZeroed(byteSize, byteAlignment);
        if (address == 0) {
            throw Checks.exhausted(name, byteSize, byteAlignment);
        }
        return segment(address, byteSize);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException also if the segment is dead (freed by {@link #reset()}, or by
     *         the arena it came from)
     */
    @Override
    public void free(MemorySegment segment) {
        checkOwner();
        checkAlive(segment);
        NativeAllocator.super.free(segment);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException also if the segment is dead (freed by {@link #reset()}, or by
     *         the arena it came from)
     */
    @Override
    public MemorySegment reallocate(MemorySegment segment, long newByteSize, long byteAlignment) {
        checkOwner();
        checkAlive(segment);
        return NativeAllocator.super.reallocate(segment, newByteSize, byteAlignment);
    }

    /** A segment of the current generation's scope over a block of this arena. */
    @Override
    public MemorySegment asSegment(long address, long byteSize) {
        checkOwner();
        return segment(address, byteSize);
    }

    /**
     * A confined arena whose blocks come from this one and go back ({@link #dealloc}) when it closes. It
     * closes with this arena's generation: at {@link #reset()} or {@link #close()} at the latest.
     */
    @Override
    public Arena newArena() {
        checkOwner();
        Arena arena = new AllocatorArena(this, this::dealloc,
                () -> openArenas.removeIf(open -> !open.scope().isAlive()));
        openArenas.add(arena);
        return arena;
    }

    /** The scope of the current generation: segments allocated now live until the next reset or close. */
    @Override
    public MemorySegment.Scope scope() {
        return generation.scope();
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Frees every block at once and starts a new generation: the current chunk is kept (allocation
     * starts again at its base), every other chunk and every large block goes back to the parent, arenas
     * of {@link #newArena()} close, and every segment handed out so far is dead from now on.
     *
     * @throws IllegalStateException if this arena is closed
     * @throws WrongThreadException if called from a thread other than the creating one
     */
    public void reset() {
        checkOwner();
        endGeneration();
        generation = Arena.ofConfined();
        if (chunkCount > 0) {
            int spare = chunkCount - 1;
            long current = chunks[spare];
            chunks[spare] = chunks[0];
            chunks[0] = current;
            chunkCount = 1;
            top = current;
            chunkEnd = current + chunkBytes;
            for (int i = 1; i <= spare; i++) {
                parent.dealloc(chunks[i], chunkBytes, CHUNK_ALIGNMENT);
            }
        }
    }

    /**
     * Gives every chunk and large block back to the parent and kills every segment; every method but
     * {@code close()}, {@link #name()}, {@link #scope()} and {@link #chunkBytes()} throws
     * {@link IllegalStateException} from now on. A second call does nothing (where
     * {@link Arena#close()} would throw).
     *
     * @throws WrongThreadException if called from a thread other than the creating one while open
     */
    @Override
    public void close() {
        if (owner == null) {
            return;
        }
        checkOwner();
        endGeneration();
        owner = null;
        top = 1;
        chunkEnd = 0;
        int count = chunkCount;
        chunkCount = 0;
        for (int i = 0; i < count; i++) {
            parent.dealloc(chunks[i], chunkBytes, CHUNK_ALIGNMENT);
        }
    }

    /** Closes the sub-arenas and the generation's scope, frees the large blocks, forgets the last block. */
    private void endGeneration() {
        for (Arena arena : List.copyOf(openArenas)) {
            arena.close(); // gives its blocks back through dealloc, and leaves openArenas
        }
        openArenas.clear();
        generation.close();
        lastStart = 0;
        if (largeBlocks.size() > 0) {
            largeBlocks.forEach(parent::dealloc);
            largeBlocks.clear();
        }
    }

    // ---------------------------------------------------------------- queries

    /** {@code "bump:"} followed by the parent's name. */
    @Override
    public String name() {
        return name;
    }

    /** The bytes of one chunk taken from the parent. */
    public long chunkBytes() {
        return chunkBytes;
    }

    /** The allocator chunks and large blocks come from. */
    public NativeAllocator parent() {
        return parent;
    }

    /** Chunks held now (tests). */
    int chunkCount() {
        return chunkCount;
    }

    /** Large blocks held now (tests). */
    int largeBlockCount() {
        return largeBlocks.size();
    }

    @Override
    public String toString() {
        return "BumpArena[" + name + ", chunks of " + chunkBytes + " B"
                + (owner == null ? ", closed" : ", " + chunkCount + " chunks, " + largeBlocks.size() + " large blocks")
                + "]";
    }

    // ---------------------------------------------------------------- helpers

    /** The bump itself: the request fits the current chunk (strictly: a block never ends at the chunk's end). */
    private long bump(long byteSize, long byteAlignment) {
        long from = top;
        long start = (from + byteAlignment - 1) & -byteAlignment; // no overflow: top < 2^57, alignment <= 2^62
        if (byteSize < chunkEnd - start) {
            take(start, byteSize, from);
            return start;
        }
        return allocSlow(byteSize, byteAlignment, false);
    }

    private void take(long start, long byteSize, long from) {
        top = start + byteSize;
        lastStart = start;
        lastFrom = from;
    }

    /** A large block from the parent, or a new chunk and the block at its start. */
    private long allocSlow(long byteSize, long byteAlignment, boolean zeroed) {
        if (isLarge(byteSize, byteAlignment)) {
            long address = zeroed ? parent.allocZeroed(byteSize, byteAlignment) : parent.alloc(byteSize, byteAlignment);
            if (address != 0) {
                largeBlocks.put(address, byteSize, byteAlignment);
            }
            return address;
        }
        long chunk = parent.alloc(chunkBytes, CHUNK_ALIGNMENT);
        if (chunk == 0) {
            return 0;
        }
        if (chunkCount == chunks.length) {
            chunks = Arrays.copyOf(chunks, 2 * chunkCount);
        }
        chunks[chunkCount++] = chunk;
        chunkEnd = chunk + chunkBytes;
        long start = (chunk + byteAlignment - 1) & -byteAlignment;
        assert byteSize < chunkEnd - start : "a request that is not large fits an empty chunk";
        take(start, byteSize, chunk);
        if (zeroed) {
            zero(start, byteSize);
        }
        return start;
    }

    /**
     * Too big for an empty chunk: {@code byteSize + byteAlignment - 1 >= chunkBytes}, since the start of
     * a chunk may need up to {@code byteAlignment - 1} bytes of padding and a block ends before the
     * chunk's end. Written without the overflowing sum.
     */
    private boolean isLarge(long byteSize, long byteAlignment) {
        return byteSize > chunkBytes - byteAlignment;
    }

    private boolean isLast(long address, long byteSize) {
        return address == lastStart && address + byteSize == top;
    }

    /** Rolls the last block back, if {@code address} is it. */
    private boolean rollBack(long address, long byteSize) {
        if (isLast(address, byteSize)) {
            top = lastFrom;
            lastStart = 0; // the block before is not known: one step back only
            return true;
        }
        return false;
    }

    private void freeLarge(int entry) {
        long address = largeBlocks.address(entry);
        parent.dealloc(address, largeBlocks.byteSize(entry), largeBlocks.byteAlignment(entry));
        largeBlocks.removeAt(entry);
    }

    private long reallocLarge(int entry, long byteAlignment, long newSize) {
        long address = largeBlocks.address(entry);
        long oldSize = largeBlocks.byteSize(entry);
        if (isLarge(newSize, byteAlignment)) {
            long moved = parent.realloc(address, oldSize, byteAlignment, newSize);
            if (moved != 0) {
                largeBlocks.removeAt(entry);
                largeBlocks.put(moved, newSize, byteAlignment);
            }
            return moved;
        }
        long moved = bump(newSize, byteAlignment); // fits a chunk: never touches the table
        if (moved != 0) {
            copy(address, moved, Math.min(oldSize, newSize));
            freeLarge(entry);
        }
        return moved;
    }

    private void checkOwner() {
        if (Thread.currentThread() != owner) {
            throw owner == null ? Checks.closed(name)
                    : new WrongThreadException("arena '" + name + "' is confined to " + owner + ", not "
                            + Thread.currentThread());
        }
    }

    private void checkAlive(MemorySegment segment) {
        if (!segment.scope().isAlive()) {
            throw Checks.foreign(name, segment.address(),
                    "is in a dead segment (freed by reset(), close() or its arena) of");
        }
    }

    private MemorySegment segment(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize, generation, null);
    }

    private static void zero(long address, long byteSize) {
        if (byteSize > 0) {
            MemorySegment.ofAddress(address).reinterpret(byteSize).fill((byte) 0);
        }
    }

    private static void copy(long from, long to, long byteSize) {
        if (byteSize > 0) {
            MemorySegment.copy(MemorySegment.ofAddress(from).reinterpret(byteSize), 0,
                    MemorySegment.ofAddress(to).reinterpret(byteSize), 0, byteSize);
        }
    }
}
