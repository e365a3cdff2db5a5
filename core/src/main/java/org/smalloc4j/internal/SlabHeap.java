package org.smalloc4j.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The smalloc algorithm over one reserved range: per-slab intrusive free lists changed only by
 * compare-and-set, lazy slot initialisation, threads spread over slabs, failover to another slab,
 * overflow to the next class; in front of the lists, optional per-thread caches of freed small slots
 * ({@link ThreadCache}). Addresses here are offsets from the heap's base; {@code Smalloc}
 * checks arguments and turns offsets into addresses.
 *
 * <p>Invariants (asserted where they are relied on):
 * <ol>
 * <li>A slot is in exactly one state: handed out, free and touched (on its slab's list, holding a
 *     link; or in one thread cache, holding nothing), or never touched (at or after the list's
 *     untouched end entry).</li>
 * <li>Every slot below a slab's first never-touched slot has been handed out at least once.</li>
 * <li>A never-touched slot's memory is zero; so is every byte of a freed slot of a released class.</li>
 * <li>A head word changes only by compare-and-set; every push adds one to its counter.</li>
 * </ol>
 */
public final class SlabHeap extends HeapMetadata {

    /** Result of {@link #pop}: the slab's list is at its end. */
    public static final long EMPTY = -1;
    /** Result of {@link #pop}: another thread changed the head first. */
    public static final long CONTENDED = -2;
    /** Bit of a {@link #pop} result: the slot was never touched, so it is all zero. */
    public static final long FRESH = 1L << 32;
    /** Bit of an {@link #allocate} result: see {@link #FRESH}. */
    public static final long ZEROED = 1L << 62;

    /**
     * Growing past a page moves a block to this class (64 KiB) at least, so later doublings stay in
     * place; below the default page-release class, so that freeing a small grower costs no madvise.
     */
    static final int GROWER_CLASS = 16;
    /** A grower gets a slot this many classes above what it needs (4x headroom). */
    static final int GROWER_HEADROOM = 2;
    private static final int PAGE_CLASS = 12;

    /** A thread cache keeps at most this many bytes of one class ({@link ThreadCache#STRIDE} slots at most). */
    public static final long CACHE_BYTES_PER_CLASS = 128 << 10;
    private static final VarHandle CACHE_TABLE = java.lang.invoke.MethodHandles.arrayElementVarHandle(ThreadCache[].class);

    /** Threads map to slab hints by thread id modulo this; a power of two. */
    private static final int HINTS = 256;
    /**
     * The slab each thread tries first, by thread id modulo {@link #HINTS}, modulo the heap's slab
     * count. Shared by all heaps (a constant array reference on the hot path); written only when a
     * thread moves on after contention or a full slab; races between writers are harmless.
     */
    private static final int[] SLAB_HINTS = new int[HINTS];

    static {
        for (int i = 0; i < HINTS; i++) {
            SLAB_HINTS[i] = i;
        }
    }

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    // plain accesses to slots and links are aligned by construction: the unaligned forms skip a test
    private static final VarHandle PLAIN_LONG = ValueLayout.JAVA_LONG_UNALIGNED.varHandle();
    private static final VarHandle PLAIN_INT = ValueLayout.JAVA_INT_UNALIGNED.varHandle();
    /** All of memory, global scope: only for ranges that stay mapped for the life of the process. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final String name;
    private final int releaseClass;
    private final boolean checked;
    private final int slabMask;
    private final long allSlabs;          // one bit per slab
    /*
     * Memory is reached in one of two ways. A heap that is never unmapped (the global one) goes
     * through EVERYTHING at absolute addresses: a static final segment the JIT treats as a constant,
     * so no bounds, liveness or alignment loads stay on the hot path (a pop+push pair measured
     * 8.9 ns this way against 11-13 ns through a segment held in a field). A closable heap goes
     * through segments of its shared arena at offsets, so that once it is closed an access throws
     * IllegalStateException instead of touching unmapped memory. Each accessor tests `global`
     * first: a final field, always predicted.
     */
    private final boolean global;
    private final long metaStart;
    private final MemorySegment slotsScoped;
    private final MemorySegment metaScoped;
    /*
     * Thread caches (see ThreadCache): the table, indexed like SLAB_HINTS, and the classes below
     * cachedClasses that use it (0 when the heap has no caches: a checked heap has none, so that every
     * free meets the checks of the lists). cacheCapacity[sc] slots of class sc at most,
     * CACHE_BYTES_PER_CLASS worth, so that a thread keeps little memory to itself. cacheLimitClass is
     * cachedClasses until closeCaches() sets it to 0: the hot paths test it, and so need no test of
     * their own for a closed heap (the slow paths, which every call then takes, do that).
     */
    private final ThreadCache[] caches;
    /** The caches' words by the same index, for the hot paths (one load fewer than through caches). */
    private final long[][] cacheWords;
    private final int cachedClasses;
    private int cacheLimitClass;
    /** cacheLimitClass - MIN_CLASS, at least 0: a free's one unsigned compare for "a cached class". */
    private int cachedClassSpan;
    private final int[] cacheCapacity;

    /**
     * @param base the slot reservation, aligned to its size (see {@link AddressLayout})
     * @param metaStart the metadata reservation ({@link #metadataBytesFor}), zero-filled
     * @param releaseClass freed slots of this class and above give their pages back
     * @param lifetime the arena whose closing ends the heap, or null for a heap never unmapped
     * @param threadCaches keep freed slots of small classes in per-thread caches
     */
    public SlabHeap(String name, long base, int slotBits, int maxClass, int slabBits, int releaseClass,
                    boolean checked, long metaStart, Arena lifetime, boolean threadCaches) {
        super(base, slotBits, maxClass, slabBits, releaseClass, checked);
        this.name = name;
        this.releaseClass = releaseClass;
        this.checked = checked;
        this.slabMask = slabs() - 1;
        this.allSlabs = -1L >>> (64 - slabs());
        this.global = lifetime == null;
        this.metaStart = metaStart;
        this.slotsScoped = global ? null : MemorySegment.ofAddress(base).reinterpret(byteSize(), lifetime, null);
        this.metaScoped = global ? null : MemorySegment.ofAddress(metaStart).reinterpret(metadataBytes(), lifetime, null);
        this.cacheCapacity = new int[maxClass + 1];
        int limit = 0;
        while (threadCaches && !checked && limit <= maxClass && limit < releaseClass
                && (limit < AddressLayout.MIN_CLASS || CACHE_BYTES_PER_CLASS >> limit > 0)) {
            cacheCapacity[limit] = (int) Math.min(ThreadCache.STRIDE, CACHE_BYTES_PER_CLASS >> limit);
            limit++;
        }
        this.cachedClasses = limit;
        this.cacheLimitClass = limit;
        this.cachedClassSpan = Math.max(0, limit - AddressLayout.MIN_CLASS);
        this.caches = limit > 0 ? new ThreadCache[HINTS] : null;
        this.cacheWords = limit > 0 ? new long[HINTS][] : null;
    }

    /**
     * From now on the caches serve nothing (for a heap that closes): every allocation and free takes
     * the slow path, where the heap's closed state is tested. A thread that races with this may still
     * use its cache once.
     */
    public void closeCaches() {
        cacheLimitClass = 0;
        cachedClassSpan = 0;
    }

    /** Does this heap keep freed slots in per-thread caches? */
    public boolean threadCaches() {
        return caches != null;
    }

    public boolean checked() {
        return checked;
    }

    /** The heap's address layout (the heap itself: it extends the layout). */
    public AddressLayout layout() {
        return this;
    }

    // ------------------------------------------------------------ memory access

    private long slotLong(long offset) {
        return global ? (long) PLAIN_LONG.get(EVERYTHING, base() + offset) : (long) PLAIN_LONG.get(slotsScoped, offset);
    }

    private void setSlotLong(long offset, long value) {
        if (global) {
            PLAIN_LONG.set(EVERYTHING, base() + offset, value);
        } else {
            PLAIN_LONG.set(slotsScoped, offset, value);
        }
    }

    private int slotInt(long offset) {
        return global ? (int) PLAIN_INT.get(EVERYTHING, base() + offset) : (int) PLAIN_INT.get(slotsScoped, offset);
    }

    private void setSlotInt(long offset, int value) {
        if (global) {
            PLAIN_INT.set(EVERYTHING, base() + offset, value);
        } else {
            PLAIN_INT.set(slotsScoped, offset, value);
        }
    }

    private long metaLong(long offset) {
        return global ? (long) PLAIN_LONG.get(EVERYTHING, metaStart + offset) : (long) PLAIN_LONG.get(metaScoped, offset);
    }

    private void setMetaLong(long offset, long value) {
        if (global) {
            PLAIN_LONG.set(EVERYTHING, metaStart + offset, value);
        } else {
            PLAIN_LONG.set(metaScoped, offset, value);
        }
    }

    private long metaLongAcquire(long offset) {
        return global ? (long) LONG.getAcquire(EVERYTHING, metaStart + offset) : (long) LONG.getAcquire(metaScoped, offset);
    }

    private boolean casMetaLong(long offset, long expected, long value) {
        return global
                ? LONG.compareAndSet(EVERYTHING, metaStart + offset, expected, value)
                : LONG.compareAndSet(metaScoped, offset, expected, value);
    }

    private long metaGetAndOr(long offset, long bits) {
        return global
                ? (long) LONG.getAndBitwiseOr(EVERYTHING, metaStart + offset, bits)
                : (long) LONG.getAndBitwiseOr(metaScoped, offset, bits);
    }

    private long metaGetAndAnd(long offset, long bits) {
        return global
                ? (long) LONG.getAndBitwiseAnd(EVERYTHING, metaStart + offset, bits)
                : (long) LONG.getAndBitwiseAnd(metaScoped, offset, bits);
    }

    /** A segment over {@code byteSize} bytes at slot offset {@code offset}, with the heap's scope. */
    public MemorySegment slice(long offset, long byteSize) {
        if (global) {
            Objects.checkFromIndexSize(offset, byteSize, byteSize());
            return EVERYTHING.asSlice(base() + offset, byteSize);
        }
        return slotsScoped.asSlice(offset, byteSize);
    }

    // ------------------------------------------------------------ head word access

    private long headAcquire(long headOffset) {
        return metaLongAcquire(headOffset);
    }

    private boolean casHead(long headOffset, long expected, long next) {
        return casMetaLong(headOffset, expected, next);
    }

    // ------------------------------------------------------------ links

    /** The link a free slot holds: in the slot, or on the side for released classes. */
    private long linkAt(int slab, int sizeClass, int slotNumber, long slotOffset) {
        if (sizeClass >= releaseClass) {
            return metaLong(sideLinkOffset(slab, sizeClass, slotNumber));
        }
        if (sizeClass == AddressLayout.MIN_CLASS) {
            // a 4-byte slot has room for the entry alone: only its range can be checked
            return HeadWord.link(slotInt(slotOffset));
        }
        return slotLong(slotOffset);
    }

    private void setLink(int slab, int sizeClass, int slotNumber, long slotOffset, int nextEntry) {
        if (sizeClass >= releaseClass) {
            setMetaLong(sideLinkOffset(slab, sizeClass, slotNumber), HeadWord.link(nextEntry));
        } else if (sizeClass == AddressLayout.MIN_CLASS) {
            setSlotInt(slotOffset, nextEntry);
        } else {
            setSlotLong(slotOffset, HeadWord.link(nextEntry));
        }
    }

    // ------------------------------------------------------------ pop and push

    /**
     * Takes the first free slot of ({@code slab}, {@code sizeClass}).
     *
     * @return the slot number, with {@link #FRESH} set if it was never touched; or {@link #EMPTY};
     *         or {@link #CONTENDED} if another thread changed the head first
     * @throws IllegalStateException if the first free slot holds a corrupt link; the list is set aside
     */
    public long pop(int slab, int sizeClass) {
        // every number from the heap's fields is read before the acquire, which would force rereads
        final long headOffset = headOffset(slab, sizeClass);
        return popFrom(slab, sizeClass, headOffset, offsetOf(slab, sizeClass, 0), slotsPerSlab(sizeClass),
                headAcquire(headOffset));
    }

    /**
     * The second half of {@link #pop}: pops given the head word read earlier. A test can change the
     * list between the read and the compare-and-set with it (a forced ABA interleaving).
     */
    public long popFrom(int slab, int sizeClass, long head) {
        return popFrom(slab, sizeClass, headOffset(slab, sizeClass), offsetOf(slab, sizeClass, 0),
                slotsPerSlab(sizeClass), head);
    }

    private long popFrom(int slab, int sizeClass, long headOffset, long slabOffset, int slotCount, long head) {
        final int entry = HeadWord.entry(head);
        final int slot = HeadWord.slotNumber(entry);
        if (!HeadWord.touched(entry)) {
            if (slot >= slotCount) {
                assert slot == slotCount : "head beyond the end in " + where(slab, sizeClass);
                return EMPTY;
            }
            // a never-touched slot's next is the slot after it, never touched either
            return casHead(headOffset, head, HeadWord.popped(head, HeadWord.untouched(slot + 1)))
                    ? slot | FRESH : CONTENDED;
        }
        final long link = linkAt(slab, sizeClass, slot, slabOffset + ((long) slot << sizeClass));
        final int next = HeadWord.linkEntry(link);
        if (!HeadWord.linkIntact(link) || !HeadWord.nextValid(next, slot, slotCount)) {
            // a link read while another thread took the slot may be user data: only an unchanged
            // head proves the slot stayed free, so that the bad link is a write after free. The fence
            // keeps the link load before the head re-read (weakly ordered CPUs may swap plain loads).
            VarHandle.acquireFence();
            if (headAcquire(headOffset) != head) {
                return CONTENDED;
            }
            throw setAside(headOffset, head, slab, sizeClass, slot, link);
        }
        // the counter in `head` makes this fail if the slot was popped and pushed back meanwhile
        return casHead(headOffset, head, HeadWord.popped(head, next)) ? slot : CONTENDED;
    }

    private IllegalStateException setAside(long headOffset, long head, int slab, int sizeClass, int slot, long link) {
        // point the head at the end: the corrupt chain is never followed again; slots freed later
        // start a new list
        boolean setAside = casHead(headOffset, head, HeadWord.ended(head, slotsPerSlab(sizeClass)));
        return new IllegalStateException("heap '" + name + "': corrupt free list in " + where(slab, sizeClass)
                + ": free slot " + slot + " at " + Checks.hex(base() + offsetOf(slab, sizeClass, slot))
                + " holds next-slot link " + Checks.hex(link) + " (a write after free?); "
                + (setAside ? "the list is set aside and allocation goes on in other slabs" : "the list changed meanwhile"));
    }

    /** Puts {@code slotNumber} back on its slab's list. */
    public void push(int slab, int sizeClass, int slotNumber, long slotOffset) {
        final long headOffset = headOffset(slab, sizeClass);
        for (;;) {
            final long head = headAcquire(headOffset);
            setLink(slab, sizeClass, slotNumber, slotOffset, HeadWord.entry(head));
            // the link store is plain: the release of the CAS publishes it with the new head
            if (casHead(headOffset, head, HeadWord.pushed(head, slotNumber))) {
                return;
            }
        }
    }

    // ------------------------------------------------------------ allocate and free

    /**
     * Allocates a slot of {@code sizeClass} or, when every slab of it is full, of the next larger
     * class that has room.
     *
     * @return the offset of the slot, with {@link #ZEROED} set if its memory is known to be zero; or
     *         -1 if every class from {@code sizeClass} up is full
     */
    public long allocate(int sizeClass) {
        final long cached = takeFromCache(sizeClass);
        return cached >= 0 ? cached : allocateFromSlabs(sizeClass);
    }

    /**
     * A slot of {@code sizeClass} from the calling thread's cache, or -1 (none cached, the class is
     * not cached, the heap has no caches or has closed them). The common case of a thread that frees
     * what it allocates: plain loads and stores, no atomic instruction. A cached slot is not known zero.
     */
    public long takeFromCache(int sizeClass) {
        if (sizeClass < cacheLimitClass) {
            final long threadId = Thread.currentThread().threadId();
            long[] words = cacheWords[(int) threadId & (HINTS - 1)];
            if (words == null || words[ThreadCache.OWNER_ID] != threadId) {
                words = takenOverCache(threadId);
            }
            if (words != null) {
                final long word = words[ThreadCache.COUNTS + sizeClass];
                final int count = ThreadCache.count(word);
                if (count > 0) {
                    words[ThreadCache.COUNTS + sizeClass] = word - 1;
                    return words[ThreadCache.slot(sizeClass, count - 1)];
                }
            }
        }
        return -1;
    }

    /** The words of the cache at this thread's index if it has just taken it over from an ended thread, else null. */
    private long[] takenOverCache(long threadId) {
        final ThreadCache cache = caches[(int) threadId & (HINTS - 1)];
        return cache != null && cache.takeOverFromDeadOwner(Thread.currentThread()) ? cache.words : null;
    }

    /** {@link #allocate} without the thread cache: the slab lists. */
    public long allocateFromSlabs(int sizeClass) {
        final int hintIndex = (int) Thread.currentThread().threadId() & (HINTS - 1);
        final int hint = SLAB_HINTS[hintIndex] & slabMask;
        final long popped = pop(hint, sizeClass);
        // the common case, straight-line: this thread's slab had a free slot and no contention
        return popped >= 0 ? handedOut(hint, sizeClass, popped) : allocateElsewhere(hintIndex, hint, sizeClass);
    }

    /**
     * The cache this thread owns, creating it or taking it over from a dead owner; null if a live
     * thread of the same index owns it (this thread then uses the lists directly).
     */
    private long[] ownCache() {
        final Thread thread = Thread.currentThread();
        final long threadId = thread.threadId();
        final int index = (int) threadId & (HINTS - 1);
        final long[] words = cacheWords[index];
        if (words != null && words[ThreadCache.OWNER_ID] == threadId) {
            return words;
        }
        ThreadCache cache = caches[index];
        if (cache == null) {
            ThreadCache fresh = new ThreadCache(thread, java.util.Arrays.copyOf(cacheCapacity, cachedClasses));
            if (CACHE_TABLE.compareAndSet(caches, index, (ThreadCache) null, fresh)) {
                cacheWords[index] = fresh.words; // a racy publication: a reader that sees no id of its own goes here
                return fresh.words;
            }
            cache = (ThreadCache) CACHE_TABLE.getVolatile(caches, index);
        }
        return cache.takeOverFromDeadOwner(thread) ? cache.words : null;
    }

    /** Keeps a freed slot in this thread's cache if it has room; false otherwise. */
    private boolean cacheFreed(int sizeClass, long offset) {
        final long[] words = ownCache();
        if (words == null) {
            return false;
        }
        final long word = words[ThreadCache.COUNTS + sizeClass];
        final int count = ThreadCache.count(word);
        if (count >= ThreadCache.capacity(word)) {
            return false;
        }
        words[ThreadCache.slot(sizeClass, count)] = offset;
        words[ThreadCache.COUNTS + sizeClass] = word + 1;
        return true;
    }

    /** The slot {@code popped} from ({@code slab}, {@code sizeClass}), as {@link #allocate} returns it. */
    private long handedOut(int slab, int sizeClass, long popped) {
        final int slot = (int) popped;
        final long offset = offsetOf(slab, sizeClass, slot);
        if (checked) {
            markHandedOut(slab, sizeClass, slot, offset);
        }
        final boolean zeroed = (popped & FRESH) != 0 || sizeClass >= releaseClass;
        return zeroed ? offset | ZEROED : offset;
    }

    /**
     * After the thread's own slab failed: fail over to the other slabs of the class, then to larger
     * classes; remembers where it found room.
     */
    private long allocateElsewhere(int hintIndex, int hint, int sizeClass) {
        for (int sc = sizeClass; sc <= maxClass(); sc++) {
            if (sc > sizeClass) {
                long cached = takeFromCache(sc); // overflowing: this thread's cached slots of a larger class
                if (cached >= 0) {
                    return cached; // not known zero
                }
            }
            int slab = hint;
            long emptySlabs = 0; // bit s: slab s was found full (contention alone proves nothing)
            while (emptySlabs != allSlabs) {
                long popped = pop(slab, sc);
                if (popped >= 0) {
                    if (slab != hint) {
                        SLAB_HINTS[hintIndex] = slab; // stay where there was room or no contention
                    }
                    return handedOut(slab, sc, popped);
                }
                if (popped == EMPTY) {
                    emptySlabs |= 1L << slab;
                }
                slab = (slab + 1) & slabMask; // on contention or a full slab, fail over
            }
        }
        return -1;
    }

    private void markHandedOut(int slab, int sizeClass, int slot, long offset) {
        long bit = HeapMetadata.bitmapBit(slot);
        long before = metaGetAndOr(bitmapWordOffset(slab, sizeClass, slot), bit);
        if ((before & bit) != 0) {
            throw new IllegalStateException("heap '" + name + "': free list of " + where(slab, sizeClass)
                    + " handed out slot " + slot + " at " + Checks.hex(base() + offset)
                    + ", which is already handed out (a corrupt list)");
        }
    }

    /**
     * Checks that {@code address} is the start of a slot of this heap (and, when checked, one handed
     * out, of at least {@code byteSize} bytes) and returns its offset.
     *
     * @throws IllegalArgumentException naming the address otherwise
     */
    public long slotOffset(long address, long byteSize) {
        long offset = slotStartOffset(address);
        if (checked) {
            checkHandedOut(address, offset, byteSize);
        }
        return offset;
    }

    /**
     * {@link #slotOffset} without checked mode's checks: that {@code address} is the start of a slot.
     *
     * @throws IllegalArgumentException naming the address otherwise
     */
    public long slotStartOffset(long address) {
        if (!contains(address)) {
            throw Checks.foreign(name, address, "is not inside");
        }
        long offset = offsetOf(address);
        int sc = sizeClassOf(offset);
        if (sc < AddressLayout.MIN_CLASS || sc > maxClass()) {
            throw Checks.foreign(name, address, "is in no size class of");
        }
        if (!AddressLayout.isSlotStart(offset, sc)) {
            throw Checks.foreign(name, address, "is inside a " + (1L << sc) + "-byte slot, not at its start, of");
        }
        return offset;
    }

    /** Checked mode: that the slot at {@code offset} is handed out and holds {@code byteSize} bytes. */
    private void checkHandedOut(long address, long offset, long byteSize) {
        int sc = sizeClassOf(offset);
        if (byteSize > 1L << sc) {
            throw new IllegalArgumentException("address " + Checks.hex(address) + " is a " + (1L << sc)
                    + "-byte slot; it cannot hold the " + byteSize + " bytes given");
        }
        int slot = slotNumberOf(offset, sc);
        long word = metaLongAcquire(bitmapWordOffset(slabOf(offset), sc, slot));
        if ((word & HeapMetadata.bitmapBit(slot)) == 0) {
            throw notHandedOut(address);
        }
    }

    private IllegalArgumentException notHandedOut(long address) {
        return Checks.foreign(name, address, "is not a live block (a double free, a stale pointer, or never handed out) of");
    }

    /** Frees the slot at {@code offset}, which {@link #slotOffset} accepted. */
    public void free(long offset) {
        if (!freeToCache(offset)) {
            freeToList(offset);
        }
    }

    /**
     * Keeps the slot at {@code offset} (which {@link #slotStartOffset} accepted) in the calling thread's
     * cache, if the heap has caches open, the class is cached and there is room; false otherwise.
     */
    public boolean freeToCache(long offset) {
        final int sc = sizeClassOf(offset);
        return sc < cacheLimitClass && cacheFreed(sc, offset);
    }

    /**
     * Keeps the block at {@code address} in the calling thread's cache if it is the start of a slot of
     * a cached class of this heap and there is room: the common free, checked with one unsigned
     * compare per condition. False otherwise, with nothing checked further ({@link #slotStartOffset}
     * then says what is wrong, if anything).
     */
    public boolean freeAddressToCache(long address) {
        final long offset = offsetOf(address);
        final int sc = sizeClassOf(offset);
        // a cached class is one of this heap's (cacheLimitClass <= maxClass + 1), above MIN_CLASS - 1
        return contains(address) && Integer.compareUnsigned(sc - AddressLayout.MIN_CLASS, cachedClassSpan) < 0
                && AddressLayout.isSlotStart(offset, sc) && cacheFreed(sc, offset);
    }

    /**
     * Frees the slot at {@code offset} to its slab's list, after checked mode's checks when checked
     * (that it is handed out and holds {@code byteSize} bytes: {@code address} names it in the exception).
     */
    public void freeToList(long address, long offset, long byteSize) {
        if (checked) {
            checkHandedOut(address, offset, byteSize);
        }
        freeToList(offset);
    }

    /** Frees the slot at {@code offset}, which {@link #slotOffset} accepted, to its slab's list. */
    private void freeToList(long offset) {
        final int sc = sizeClassOf(offset);
        if (checked) {
            unmarkHandedOut(offset, sc);
        }
        final int slab = slabOf(offset);
        final int slot = slotNumberOf(offset, sc);
        if (sc >= releaseClass) {
            Native.releasePages(slice(offset, 1L << sc));
        }
        push(slab, sc, slot, offset);
    }

    private void unmarkHandedOut(long offset, int sizeClass) {
        final int slot = slotNumberOf(offset, sizeClass);
        long bit = HeapMetadata.bitmapBit(slot);
        long before = metaGetAndAnd(bitmapWordOffset(slabOf(offset), sizeClass, slot), ~bit);
        if ((before & bit) == 0) {
            throw notHandedOut(base() + offset); // lost a race with another free of it
        }
    }

    /**
     * The class a block that grows to {@code newSize} should move to. Past a page, a grower gets
     * headroom ({@link #GROWER_HEADROOM} classes, at least {@link #GROWER_CLASS}) so that its next
     * doublings stay in place; the headroom stops below the page-release class, so that a block does
     * not pay an {@code madvise} on free (and page faults on reuse) only because it was given room.
     */
    public int growthClass(long newSize, long byteAlignment) {
        int needed = AddressLayout.sizeClassFor(newSize, byteAlignment);
        if (needed <= PAGE_CLASS) {
            return needed;
        }
        int roomy = Math.min(Math.max(needed + GROWER_HEADROOM, GROWER_CLASS), releaseClass - 1);
        return Math.min(maxClass(), Math.max(needed, roomy));
    }

    // ------------------------------------------------------------ statistics

    /** Counts of one slab of one class, by walking its list. */
    public record SlabCounts(long slotsInUse, long slotsTouched, long bytesResident) {
    }

    /**
     * Slots of {@code sizeClass} in thread caches, per slab. Reads other threads' caches without
     * synchronisation: exact when no other thread allocates or frees meanwhile, a moment's view otherwise.
     */
    public int[] cachedSlots(int sizeClass) {
        int[] perSlab = new int[slabs()];
        if (sizeClass >= cachedClasses) {
            return perSlab;
        }
        for (int index = 0; index < HINTS; index++) {
            ThreadCache cache = (ThreadCache) CACHE_TABLE.getVolatile(caches, index);
            if (cache == null) {
                continue;
            }
            int count = Math.min(ThreadCache.count(cache.words[ThreadCache.COUNTS + sizeClass]), ThreadCache.STRIDE);
            for (int k = 0; k < count; k++) {
                perSlab[slabOf(cache.words[ThreadCache.slot(sizeClass, k)])]++;
            }
        }
        return perSlab;
    }

    /**
     * Walks the list of ({@code slab}, {@code sizeClass}); {@code cached} of its slots are free in thread
     * caches ({@link #cachedSlots}). Exact when no other thread allocates or frees meanwhile; costs time
     * in proportion to the free touched slots.
     */
    public SlabCounts count(int slab, int sizeClass, int cached) {
        final int slotCount = slotsPerSlab(sizeClass);
        int entry = HeadWord.entry(headAcquire(headOffset(slab, sizeClass)));
        long freeTouched = 0;
        while (HeadWord.touched(entry) && freeTouched < slotCount) {
            int slot = HeadWord.slotNumber(entry);
            long link = linkAt(slab, sizeClass, slot, offsetOf(slab, sizeClass, slot));
            int next = HeadWord.linkEntry(link);
            if (!HeadWord.linkIntact(link) || !HeadWord.nextValid(next, slot, slotCount)) {
                break; // raced with another thread, or a corrupt list: stop counting here
            }
            freeTouched++;
            entry = next;
        }
        long touched = HeadWord.touched(entry) ? slotCount : HeadWord.slotNumber(entry);
        long inUse = Math.max(0, touched - freeTouched - cached);
        long resident = touched == 0 ? 0
                : Native.residentBytes(base() + offsetOf(slab, sizeClass, 0), touched << sizeClass);
        return new SlabCounts(inUse, touched, resident);
    }

    /**
     * Walks every list and the thread caches and checks the invariants of the class comment: every link intact and in range,
     * no list longer than its slab (a cycle), and on a checked heap the handed-out bits agreeing with
     * the lists (a slot listed twice, or lost, shows as a difference). Meant for a heap no other thread
     * is using; costs time in proportion to the free slots ever used.
     *
     * @param maxProblems stop after this many
     * @return the problems found, empty for a sound heap
     */
    public List<String> verify(int maxProblems) {
        List<String> problems = new ArrayList<>();
        for (int sc = AddressLayout.MIN_CLASS; sc <= maxClass() && problems.size() < maxProblems; sc++) {
            int[] cached = cachedSlots(sc);
            for (int slab = 0; slab < slabs() && problems.size() < maxProblems; slab++) {
                verifySlab(slab, sc, cached[slab], problems);
            }
        }
        return problems;
    }

    private void verifySlab(int slab, int sizeClass, int cached, List<String> problems) {
        final int slotCount = slotsPerSlab(sizeClass);
        final String where = where(slab, sizeClass);
        int entry = HeadWord.entry(headAcquire(headOffset(slab, sizeClass)));
        long freeTouched = 0;
        while (HeadWord.touched(entry)) {
            final int slot = HeadWord.slotNumber(entry);
            if (slot >= slotCount) {
                problems.add(where + ": the list names slot " + slot + " of " + slotCount);
                return;
            }
            if (freeTouched == slotCount) {
                problems.add(where + ": the list is longer than the slab (a cycle)");
                return;
            }
            if (checked && isHandedOut(slab, sizeClass, slot)) {
                problems.add(where + ": free slot " + slot + " is marked handed out");
            }
            final long link = linkAt(slab, sizeClass, slot, offsetOf(slab, sizeClass, slot));
            final int next = HeadWord.linkEntry(link);
            if (!HeadWord.linkIntact(link) || !HeadWord.nextValid(next, slot, slotCount)) {
                problems.add(where + ": free slot " + slot + " holds a corrupt link " + Checks.hex(link));
                return;
            }
            freeTouched++;
            entry = next;
        }
        final int frontier = HeadWord.slotNumber(entry); // the first slot never touched
        if (frontier > slotCount) {
            problems.add(where + ": the list ends at slot " + frontier + " of " + slotCount);
            return;
        }
        if (checked) {
            long marked = 0;
            for (int slot = 0; slot < frontier; slot++) {
                marked += isHandedOut(slab, sizeClass, slot) ? 1 : 0;
            }
            if (marked != frontier - freeTouched - cached) {
                problems.add(where + ": " + marked + " slots are marked handed out, but the list and the thread caches ("
                        + cached + " slots) leave " + (frontier - freeTouched - cached) + " (a slot listed twice, or lost)");
            }
        }
    }

    private boolean isHandedOut(int slab, int sizeClass, int slot) {
        return (metaLongAcquire(bitmapWordOffset(slab, sizeClass, slot)) & HeapMetadata.bitmapBit(slot)) != 0;
    }

    private static String where(int slab, int sizeClass) {
        return "size class " + sizeClass + " (" + (1L << sizeClass) + "-byte slots), slab " + slab;
    }

    // ------------------------------------------------------------ white-box hooks for tests

    /** The raw head word of a slab (tests). */
    public long headWord(int slab, int sizeClass) {
        return headAcquire(headOffset(slab, sizeClass));
    }

    /** The slab this thread allocates from first (tests). */
    public int currentSlab() {
        return SLAB_HINTS[(int) Thread.currentThread().threadId() & (HINTS - 1)] & slabMask;
    }

    @Override
    public String toString() {
        return "SlabHeap[" + name + ", " + slabs() + " slabs per class]";
    }
}
