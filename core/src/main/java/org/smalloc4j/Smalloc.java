package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.smalloc4j.internal.AddressLayout;
import org.smalloc4j.internal.AllocatorArena;
import org.smalloc4j.internal.Checks;
import org.smalloc4j.internal.HeapMetadata;
import org.smalloc4j.internal.Native;
import org.smalloc4j.internal.SlabHeap;

/**
 * smalloc's design on the FFM API: a simple, fast, lock-free allocator.
 *
 * <p>A heap reserves one huge range of address space (no memory: pages cost only when touched)
 * and carves it into power-of-two size classes of 4 B to {@code largestSlot}, each with
 * {@code slabsPerClass} slabs of fixed-size slots. An address's bits say its size class, slab and
 * slot, so freeing needs nothing but the address. Each slab has an intrusive lock-free free list
 * whose head word lives in native memory and changes only by compare-and-set; never-touched slots
 * need no initialisation and are already zero. Threads start on different slabs and move on when
 * they meet contention or a full slab; when every slab of a class is full, allocation overflows to
 * the next larger class.
 *
 * <p><b>Guarantees.</b> A request of {@code byteSize} bytes aligned to {@code byteAlignment} gets a
 * slot of the smallest class that holds {@code max(byteSize, byteAlignment)}; slots are aligned to
 * their own size. On one thread, a freed slot is the next one handed out of its class (LIFO). Free
 * and realloc of an address that is not the start of a slot of this heap throw
 * {@link IllegalArgumentException}; a corrupt link found in a free slot is never followed
 * ({@link IllegalStateException} naming slab and slot). In {@linkplain Builder#checked checked mode},
 * double frees, stale pointers and never-handed-out slots are caught too.
 *
 * <p><b>Costs.</b> An allocation or free is a few loads and one compare-and-set on a slab's list; when
 * the thread's cache of freed slots can serve it ({@link Builder#threadCaches}, on by default), a few
 * plain loads and stores. Nothing is allocated on the Java heap by the raw layer (a thread's cache is
 * made on its first free). Internal waste is up to half a slot (power-of-two classes).
 * Freed slots of at least {@link Builder#releaseThreshold} bytes (1 MiB by default) give their pages
 * back to the OS, at the cost of an {@code madvise} call per free and page faults on reuse.
 *
 * <p>{@link #global()} is the process-wide heap (8 TiB reserved: 64 slabs × 32 classes × 4 GiB);
 * {@link #builder()} makes independent heaps that {@link #close()} unmaps. The global heap and at
 * least ten default builder heaps (twelve, measured in a JVM on Linux x86-64) fit in one process's
 * 128 TiB of user address space: heaps are placed in aligned holes, so they need no slack.
 */
public final class Smalloc implements NativeAllocator {

    // chosen defaults: those of the global heap
    /** 64 slabs per class: one per thread for up to 64 threads before two share. */
    public static final int DEFAULT_SLABS_PER_CLASS = 64;
    /** 4 GiB of address space per slab: 2^30 four-byte slots, two 2 GiB slots. */
    public static final long DEFAULT_SLAB_BYTES = 1L << 32;
    /** The largest slot: 2 GiB; larger requests fail (return 0). */
    public static final long DEFAULT_LARGEST_SLOT = 1L << 31;
    /** Freed slots of 1 MiB or more give their pages back, so resident memory follows live memory. */
    public static final long DEFAULT_RELEASE_THRESHOLD = 1L << 20;
    /** The largest slab {@link Builder#slabBytes} allows: 2^30 slots of 4 bytes. */
    public static final long MAX_SLAB_BYTES = 1L << AddressLayout.MAX_SLOT_BITS;

    private static final AtomicInteger HEAP_NUMBER = new AtomicInteger();
    /** Blocks of at least this many bytes are zeroed by libc's memset, smaller ones by MemorySegment.fill. */
    private static final long MEMSET_FROM = 1024;

    private final String name;
    private final boolean global;
    private final SlabHeap heap;
    private final long base;
    private final Arena lifetime;        // scope of every segment this heap hands out (global: none)
    private final long metadataAddress;
    private final long metadataBytes;
    private final long releaseThreshold;
    /*
     * Plain, not volatile: a volatile read on every call is a compiler barrier that makes the JIT
     * reload the heap's fields after it (measured: ~1-2 ns a pair). A thread that races with close()
     * may miss the flag; it then meets the closed arena, whose accesses throw IllegalStateException.
     * Only the slow paths test it: close() also closes the thread caches, so that every later call
     * takes a slow path.
     */
    private boolean closed;
    private int openArenas;              // guarded by this
    private boolean unmapped;            // guarded by this

    private Smalloc(Builder b, String name, boolean global) {
        this.name = name;
        this.global = global;
        this.releaseThreshold = b.releaseThreshold;
        int slotBits = Long.numberOfTrailingZeros(b.slabBytes);
        int maxClass = Long.numberOfTrailingZeros(b.largestSlot);
        int slabBits = Integer.numberOfTrailingZeros(b.slabsPerClass);
        long byteSize = AddressLayout.byteSize(slotBits, maxClass, slabBits);
        int releaseClass = Long.numberOfTrailingZeros(Math.min(b.releaseThreshold, 1L << 62));

        long reserved;
        try {
            reserved = Native.reserveAligned(byteSize, byteSize);
        } catch (Native.NativeException e) {
            throw new IllegalStateException("heap '" + name + "': could not reserve " + byteSize
                    + " bytes of address space aligned to its size (" + b + "): " + e.getMessage(), e);
        }
        this.metadataBytes = HeapMetadata.metadataBytesFor(slotBits, maxClass, slabBits, releaseClass, b.checked);
        try {
            this.metadataAddress = Native.reserve(metadataBytes);
        } catch (Native.NativeException e) {
            Native.munmap(reserved, byteSize); // no half-made heap
            throw new IllegalStateException("heap '" + name + "': could not reserve " + metadataBytes
                    + " bytes for its metadata: " + e.getMessage(), e);
        }
        this.base = reserved;
        this.lifetime = global ? null : Arena.ofShared();
        this.heap = new SlabHeap(name, base, slotBits, maxClass, slabBits, releaseClass, b.checked,
                metadataAddress, lifetime, b.threadCaches);
    }

    private static final class GlobalHolder {
        static final Smalloc HEAP = new Smalloc(new Builder()
                .checked(Boolean.getBoolean("smalloc4j.checked"))
                .threadCaches(!"false".equals(System.getProperty("smalloc4j.threadCaches"))), "smalloc", true);
    }

    /**
     * The process-wide heap, reserved on first use with the default settings (largest slot 2 GiB).
     * It is checked when the system property {@code smalloc4j.checked} is {@code true}, and has no
     * thread caches when {@code smalloc4j.threadCaches} is {@code false}. Its
     * {@link #close()} does nothing; its segments have the global scope.
     */
    public static Smalloc global() {
        return GlobalHolder.HEAP;
    }

    /** A builder of an independent heap; every setting starts at the global heap's. */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- raw layer

    @Override
    public long alloc(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        int sizeClass = AddressLayout.sizeClassFor(byteSize, byteAlignment);
        long cached = heap.takeFromCache(sizeClass);
        if (cached >= 0) {
            return base + cached; // never marked zeroed
        }
        long offset = allocateFromSlabs(sizeClass);
        return offset < 0 ? 0 : base + (offset & ~SlabHeap.ZEROED);
    }

    @Override
    public long allocZeroed(long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        long offset = allocateSlot(byteSize, byteAlignment);
        if (offset < 0) {
            return 0;
        }
        if ((offset & SlabHeap.ZEROED) == 0) {
            MemorySegment block = heap.slice(offset, byteSize);
            if (byteSize >= MEMSET_FROM) {
                Native.zero(block);
            } else {
                block.fill((byte) 0);
            }
        }
        return base + (offset & ~SlabHeap.ZEROED);
    }

    /**
     * The offset of a new slot, with {@link SlabHeap#ZEROED} if known zero, or -1. The thread's
     * cache first: it serves only classes of this heap, and nothing once the heap has closed, so
     * only the slab path tests the class and the closed state.
     */
    private long allocateSlot(long byteSize, long byteAlignment) {
        int sizeClass = AddressLayout.sizeClassFor(byteSize, byteAlignment);
        long cached = heap.takeFromCache(sizeClass);
        return cached >= 0 ? cached : allocateFromSlabs(sizeClass);
    }

    private long allocateFromSlabs(int sizeClass) {
        checkOpen();
        return sizeClass > heap.maxClass() ? -1 : heap.allocateFromSlabs(sizeClass);
    }

    @Override
    public void dealloc(long address, long byteSize, long byteAlignment) {
        Checks.checkSizeAndAlignment(byteSize, byteAlignment);
        if (address == 0) {
            checkOpen(); // a closed heap refuses every call
            return;
        }
        // the thread's cache takes nothing once the heap has closed (nor on a checked heap, which has none)
        if (!heap.freeAddressToCache(address)) {
            deallocSlowly(address, byteSize);
        }
    }

    /** dealloc of a block the thread's cache did not take: checks all, then frees to the slab's list. */
    private void deallocSlowly(long address, long byteSize) {
        long offset;
        try {
            offset = heap.slotStartOffset(address);
        } catch (IllegalArgumentException notASlot) {
            checkOpen(); // a closed heap refuses every call, with this exception first
            throw notASlot;
        }
        checkOpen();
        heap.freeToList(address, offset, byteSize); // a cached class whose cache was full: to the list
    }

    /**
     * Keeps the block in place when {@code max(newSize, byteAlignment)} fits its slot (shrinking
     * included). A block that grows beyond a page moves to a class four times what it needs (and at
     * least 64 KiB), so that its next doublings stay in place; that headroom stops below the
     * {@linkplain Builder#releaseThreshold page-release} size. Unused pages cost only address space.
     */
    @Override
    public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
        Checks.checkRealloc(oldSize, byteAlignment, newSize);
        if (address == 0) {
            return alloc(newSize, byteAlignment);
        }
        checkOpen();
        long offset = heap.slotOffset(address, oldSize);
        long slotSize = 1L << heap.sizeClassOf(offset);
        if (Math.max(newSize, byteAlignment) <= slotSize && (address & (byteAlignment - 1)) == 0) {
            return address;
        }
        int needed = AddressLayout.sizeClassFor(newSize, byteAlignment);
        if (needed > heap.maxClass()) {
            return 0;
        }
        int growthClass = heap.growthClass(newSize, byteAlignment);
        long moved = heap.allocate(growthClass);
        if (moved < 0 && growthClass != needed) {
            moved = heap.allocate(needed);
        }
        if (moved < 0) {
            return 0;
        }
        moved &= ~SlabHeap.ZEROED;
        long keep = Math.min(Math.min(oldSize, newSize), slotSize);
        MemorySegment.copy(heap.slice(offset, keep), 0, heap.slice(moved, keep), 0, keep);
        heap.free(offset);
        return base + moved;
    }

    // ---------------------------------------------------------------- FFM layer

    /** A segment of this heap's scope over a block of it. */
    @Override
    public MemorySegment asSegment(long address, long byteSize) {
        checkOpen();
        if (!heap.contains(address)) {
            throw Checks.foreign(name, address, "is not inside");
        }
        return heap.slice(address - base, byteSize);
    }

    /**
     * {@inheritDoc} On a builder heap, blocks of arenas still open when the heap closes stay mapped
     * until the last of those arenas closes.
     */
    @Override
    public Arena newArena() {
        synchronized (this) {
            checkOpen();
            openArenas++;
        }
        return new AllocatorArena(this, this::giveBackFromArena, this::arenaClosed);
    }

    private void giveBackFromArena(long address, long byteSize, long byteAlignment) {
        if (!closed) {
            dealloc(address, byteSize, byteAlignment);
        }
    }

    private synchronized void arenaClosed() {
        openArenas--;
        if (closed && openArenas == 0) {
            unmap();
        }
    }

    // ---------------------------------------------------------------- heap queries

    /** Is {@code address} inside this heap's reserved range? A range check; false once closed. */
    public boolean contains(long address) {
        return !closed && heap.contains(address);
    }

    /**
     * The slot size behind a block's address: a power of two, at least the size it was allocated with.
     *
     * @throws IllegalArgumentException if the address is not the start of a slot of this heap
     * @throws IllegalStateException if the heap is closed
     */
    public long usableSize(long address) {
        checkOpen();
        return 1L << heap.sizeClassOf(heap.slotOffset(address, 0));
    }

    /**
     * A snapshot per size class and slab: slots in use, slots ever touched, bytes resident. Slots in
     * thread caches count as free. Walks every free list: it costs time in proportion to the free slots
     * that were ever used, so keep it off hot paths.
     *
     * @throws IllegalStateException if the heap is closed
     */
    public SmallocStats stats() {
        checkOpen();
        List<SmallocStats.SizeClass> classes = new ArrayList<>();
        for (int sc = AddressLayout.MIN_CLASS; sc <= heap.maxClass(); sc++) {
            List<SmallocStats.Slab> slabs = new ArrayList<>(heap.slabs());
            long inUse = 0, touched = 0, resident = 0;
            int[] cached = heap.cachedSlots(sc);
            for (int slab = 0; slab < heap.slabs(); slab++) {
                SlabHeap.SlabCounts counts = heap.count(slab, sc, cached[slab]);
                slabs.add(new SmallocStats.Slab(slab, counts.slotsInUse(), counts.slotsTouched(), counts.bytesResident()));
                inUse += counts.slotsInUse();
                touched += counts.slotsTouched();
                resident += counts.bytesResident();
            }
            classes.add(new SmallocStats.SizeClass(sc, 1L << sc, heap.slotsPerSlab(sc), inUse, touched, resident, slabs));
        }
        return new SmallocStats(name, classes, Native.PAGE_SIZE);
    }

    /**
     * Walks every free list and checks the heap's invariants: every link intact and in range, no list
     * longer than its slab, and on a checked heap the handed-out marks agreeing with the lists. For
     * tests and for hunting a corruption: call it while no other thread allocates or frees; it costs
     * time in proportion to the free slots that were ever used.
     *
     * @throws IllegalStateException listing what it found, or if the heap is closed
     */
    public void verify() {
        checkOpen();
        List<String> problems = heap.verify(10);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("heap '" + name + "' is corrupt:\n  " + String.join("\n  ", problems));
        }
    }

    /** The largest slot: requests above it fail. */
    public long largestSlot() {
        return 1L << heap.maxClass();
    }

    /** Slabs per size class. */
    public int slabsPerClass() {
        return heap.slabs();
    }

    /** Address space of one slab. */
    public long slabBytes() {
        return heap.slabBytes();
    }

    /** Bytes of address space reserved for slots. */
    public long reservedBytes() {
        return heap.byteSize();
    }

    /** Does this heap catch double and invalid frees? */
    public boolean checked() {
        return heap.checked();
    }

    /** Does this heap keep freed slots of small classes in per-thread caches? */
    public boolean threadCaches() {
        return heap.threadCaches();
    }

    /** Freed slots of at least this many bytes give their pages back to the OS. */
    public long releaseThreshold() {
        return releaseThreshold;
    }

    /** "smalloc" for the global heap; the builder's name (default "smalloc-N") otherwise. */
    @Override
    public String name() {
        return name;
    }

    /** The internal heap, for white-box tests in this module. */
    SlabHeap slabHeap() {
        return heap;
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Unmaps a builder heap: its segments die, and every method but {@code close()} and
     * {@link #contains} throws {@link IllegalStateException} from now on. Blocks of
     * {@link #newArena()} arenas that are still open stay mapped until those close. Does nothing on
     * the global heap or the second time.
     */
    @Override
    public void close() {
        if (global) {
            return;
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            heap.closeCaches();
            closeLifetime();
            if (openArenas == 0) {
                unmap();
            }
        }
    }

    /**
     * Closes the scope of every segment of this heap: accesses in flight on other threads finish
     * first, later ones throw. A page-release call in flight holds the scope; wait for it to end.
     */
    private void closeLifetime() {
        for (;;) {
            try {
                lifetime.close();
                return;
            } catch (IllegalStateException heldByANativeCall) {
                Thread.onSpinWait();
            }
        }
    }

    private void unmap() {
        assert Thread.holdsLock(this);
        if (!unmapped) {
            unmapped = true;
            Native.munmap(base, heap.byteSize());
            Native.munmap(metadataAddress, metadataBytes);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw Checks.closed(name);
        }
    }

    @Override
    public String toString() {
        return "Smalloc[" + name + ", " + heap.slabs() + " slabs x " + heap.slabBytes() + " B, largest slot "
                + largestSlot() + " B" + (checked() ? ", checked" : "") + (closed ? ", closed" : "") + "]";
    }

    /**
     * Settings of an independent heap. Every setter checks its value at once
     * ({@link IllegalArgumentException}); {@link #build()} checks them together.
     */
    public static final class Builder {
        private int slabsPerClass = DEFAULT_SLABS_PER_CLASS;
        private long slabBytes = DEFAULT_SLAB_BYTES;
        private long largestSlot = DEFAULT_LARGEST_SLOT;
        private boolean checked;
        private long releaseThreshold = DEFAULT_RELEASE_THRESHOLD;
        private boolean threadCaches = true;
        private String name;

        private Builder() {
        }

        /** Slabs per size class: a power of two, 1 to 64 (default 64). */
        public Builder slabsPerClass(int slabsPerClass) {
            if (slabsPerClass < 1 || slabsPerClass > 64 || Integer.bitCount(slabsPerClass) != 1) {
                throw new IllegalArgumentException("slabsPerClass " + slabsPerClass + " is not a power of two from 1 to 64");
            }
            this.slabsPerClass = slabsPerClass;
            return this;
        }

        /**
         * Address space of one slab: a power of two from 8 B to 4 GiB, at least {@link #largestSlot}
         * (default 4 GiB). A slab of size class {@code sc} holds exactly {@code slabBytes / 2^sc} slots.
         */
        public Builder slabBytes(long slabBytes) {
            if (slabBytes < 8 || slabBytes > MAX_SLAB_BYTES || Long.bitCount(slabBytes) != 1) {
                throw new IllegalArgumentException("slabBytes " + slabBytes + " is not a power of two from 8 to " + MAX_SLAB_BYTES);
            }
            this.slabBytes = slabBytes;
            return this;
        }

        /** The largest slot: a power of two from 8 B to 2 GiB (default 2 GiB); larger requests fail. */
        public Builder largestSlot(long largestSlot) {
            if (largestSlot < 8 || largestSlot > DEFAULT_LARGEST_SLOT || Long.bitCount(largestSlot) != 1) {
                throw new IllegalArgumentException("largestSlot " + largestSlot + " is not a power of two from 8 to "
                        + DEFAULT_LARGEST_SLOT);
            }
            this.largestSlot = largestSlot;
            return this;
        }

        /**
         * Catch double frees, stale pointers and frees of never-allocated slots (default false). A
         * checked heap keeps no thread caches: every free goes to its slab's list, where the slot
         * gets a link that is validated when it is handed out again (a write after free is caught).
         */
        public Builder checked(boolean checked) {
            this.checked = checked;
            return this;
        }

        /**
         * Freed slots of at least this many bytes give their pages back to the OS: a power of two of at
         * least the page size (default 1 MiB); {@code Long.MAX_VALUE} never gives pages back.
         */
        public Builder releaseThreshold(long releaseThreshold) {
            if (releaseThreshold != Long.MAX_VALUE
                    && (releaseThreshold < Native.PAGE_SIZE || Long.bitCount(releaseThreshold) != 1)) {
                throw new IllegalArgumentException("releaseThreshold " + releaseThreshold
                        + " is not a power of two of at least the page size " + Native.PAGE_SIZE);
            }
            this.releaseThreshold = releaseThreshold;
            return this;
        }

        /**
         * Keep freed slots of small classes in per-thread caches (default true): a thread that frees and
         * allocates again in the same class then uses no atomic instruction. Each thread keeps at most
         * 128 KiB (and 64 slots) of each class up to 128 KiB and below the
         * {@linkplain #releaseThreshold page-release} size, about 1 MiB in all; those slots are free
         * for that thread only (and for the next thread of its cache index once it has ended). Without
         * caches, every freed slot is on its slab's list at once, for any thread to take. A
         * {@linkplain #checked checked} heap has none, whatever this says.
         */
        public Builder threadCaches(boolean threadCaches) {
            this.threadCaches = threadCaches;
            return this;
        }

        /** The heap's name in messages and reports (default "smalloc-N"). */
        public Builder name(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("name is blank");
            }
            this.name = name;
            return this;
        }

        /**
         * Reserves the heap.
         *
         * @throws IllegalArgumentException if {@code slabBytes < largestSlot}
         * @throws IllegalStateException if the address space cannot be reserved (nothing is left reserved)
         */
        public Smalloc build() {
            if (slabBytes < largestSlot) {
                throw new IllegalArgumentException("slabBytes " + slabBytes + " is smaller than largestSlot " + largestSlot);
            }
            String heapName = name != null ? name : "smalloc-" + HEAP_NUMBER.incrementAndGet();
            return new Smalloc(this, heapName, false);
        }

        @Override
        public String toString() {
            return "slabsPerClass " + slabsPerClass + ", slabBytes " + slabBytes + ", largestSlot " + largestSlot
                    + ", checked " + checked + ", releaseThreshold " + releaseThreshold + ", threadCaches " + threadCaches;
        }
    }
}
