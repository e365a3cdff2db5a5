package org.smalloc4j.internal;

import java.lang.invoke.VarHandle;

/**
 * The smalloc algorithm over one reserved range: per-slab intrusive free lists changed only by
 * compare-and-set, lazy slot initialisation, threads spread over slabs, failover to another slab,
 * overflow to the next class. Addresses here are offsets from the heap's base; {@code Smalloc}
 * checks arguments and turns offsets into addresses.
 *
 * <p>Invariants (asserted where they are relied on):
 * <ol>
 * <li>A slot is in exactly one state: handed out, free and touched (on its slab's list, holding a
 *     link), or never touched (at or after the list's untouched end entry).</li>
 * <li>Every slot below a slab's first never-touched slot has been handed out at least once.</li>
 * <li>A never-touched slot's memory is zero; so is every byte of a freed slot of a released class.</li>
 * <li>A head word changes only by compare-and-set; every push adds one to its counter.</li>
 * </ol>
 */
public final class SlabHeap {

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

    private final String name;
    private final AddressLayout layout;
    private final HeapMetadata metadata;
    private final MemoryWindow slots;
    private final MemoryWindow meta;
    private final int releaseClass;
    private final boolean checked;
    private final int slabMask;

    /**
     * @param slots the whole reservation, offset 0 at the base
     * @param meta the metadata reservation, zero-filled
     * @param releaseClass freed slots of this class and above give their pages back
     */
    public SlabHeap(String name, AddressLayout layout, HeapMetadata metadata, MemoryWindow slots,
                    MemoryWindow meta, int releaseClass, boolean checked) {
        this.name = name;
        this.layout = layout;
        this.metadata = metadata;
        this.slots = slots;
        this.meta = meta;
        this.releaseClass = releaseClass;
        this.checked = checked;
        this.slabMask = layout.slabs() - 1;
    }

    /** The reservation, offset 0 at the base. */
    public MemoryWindow slots() {
        return slots;
    }

    public AddressLayout layout() {
        return layout;
    }

    public boolean checked() {
        return checked;
    }

    // ------------------------------------------------------------ head word access

    private long headAcquire(long headOffset) {
        return meta.getLongAcquire(headOffset);
    }

    private boolean casHead(long headOffset, long expected, long next) {
        return meta.casLong(headOffset, expected, next);
    }

    // ------------------------------------------------------------ links

    /** The link a free slot holds: in the slot, or on the side for released classes. */
    private long linkAt(int slab, int sizeClass, int slotNumber, long slotOffset) {
        if (sizeClass >= releaseClass) {
            return meta.getLong(metadata.sideLinkOffset(slab, sizeClass, slotNumber));
        }
        if (sizeClass == AddressLayout.MIN_CLASS) {
            // a 4-byte slot has room for the entry alone: only its range can be checked
            return HeadWord.link(slots.getInt(slotOffset));
        }
        return slots.getLong(slotOffset);
    }

    private void setLink(int slab, int sizeClass, int slotNumber, long slotOffset, int nextEntry) {
        if (sizeClass >= releaseClass) {
            meta.setLong(metadata.sideLinkOffset(slab, sizeClass, slotNumber), HeadWord.link(nextEntry));
        } else if (sizeClass == AddressLayout.MIN_CLASS) {
            slots.setInt(slotOffset, nextEntry);
        } else {
            slots.setLong(slotOffset, HeadWord.link(nextEntry));
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
        return popFrom(slab, sizeClass, headAcquire(metadata.headOffset(slab, sizeClass)));
    }

    /**
     * The second half of {@link #pop}: pops given the head word read earlier. Split out so that a
     * test can change the list between the read and the compare-and-set (a forced ABA interleaving).
     */
    public long popFrom(int slab, int sizeClass, long head) {
        final long headOffset = metadata.headOffset(slab, sizeClass);
        final int entry = HeadWord.entry(head);
        final int slot = HeadWord.slotNumber(entry);
        final int slotCount = layout.slotsPerSlab(sizeClass);
        if (!HeadWord.touched(entry)) {
            if (slot >= slotCount) {
                assert slot == slotCount : "head beyond the end in " + where(slab, sizeClass);
                return EMPTY;
            }
            // a never-touched slot's next is the slot after it, never touched either
            return casHead(headOffset, head, HeadWord.popped(head, HeadWord.untouched(slot + 1)))
                    ? slot | FRESH : CONTENDED;
        }
        final long link = linkAt(slab, sizeClass, slot, layout.offsetOf(slab, sizeClass, slot));
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
        boolean setAside = casHead(headOffset, head, HeadWord.ended(head, layout.slotsPerSlab(sizeClass)));
        return new IllegalStateException("heap '" + name + "': corrupt free list in " + where(slab, sizeClass)
                + ": free slot " + slot + " at " + Checks.hex(layout.base() + layout.offsetOf(slab, sizeClass, slot))
                + " holds next-slot link " + Checks.hex(link) + " (a write after free?); "
                + (setAside ? "the list is set aside and allocation goes on in other slabs" : "the list changed meanwhile"));
    }

    /** Puts {@code slotNumber} back on its slab's list. */
    public void push(int slab, int sizeClass, int slotNumber, long slotOffset) {
        final long headOffset = metadata.headOffset(slab, sizeClass);
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
        final int hintIndex = (int) Thread.currentThread().threadId() & (HINTS - 1);
        final int hint = SLAB_HINTS[hintIndex] & slabMask;
        final long allSlabs = -1L >>> (64 - layout.slabs());
        for (int sc = sizeClass; sc <= layout.maxClass(); sc++) {
            int slab = hint;
            long emptySlabs = 0; // bit s: slab s was found full (contention alone proves nothing)
            while (emptySlabs != allSlabs) {
                long popped = pop(slab, sc);
                if (popped >= 0) {
                    if (slab != hint) {
                        SLAB_HINTS[hintIndex] = slab; // stay where there was room or no contention
                    }
                    int slot = (int) popped;
                    long offset = layout.offsetOf(slab, sc, slot);
                    if (checked) {
                        markHandedOut(slab, sc, slot, offset);
                    }
                    boolean zeroed = (popped & FRESH) != 0 || sc >= releaseClass;
                    return zeroed ? offset | ZEROED : offset;
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
        long before = meta.getAndBitwiseOrLong(metadata.bitmapWordOffset(slab, sizeClass, slot), bit);
        if ((before & bit) != 0) {
            throw new IllegalStateException("heap '" + name + "': free list of " + where(slab, sizeClass)
                    + " handed out slot " + slot + " at " + Checks.hex(layout.base() + offset)
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
        if (!layout.contains(address)) {
            throw Checks.foreign(name, address, "is not inside");
        }
        long offset = layout.offsetOf(address);
        int sc = layout.sizeClassOf(offset);
        if (sc < AddressLayout.MIN_CLASS || sc > layout.maxClass()) {
            throw Checks.foreign(name, address, "is in no size class of");
        }
        if (!AddressLayout.isSlotStart(offset, sc)) {
            throw Checks.foreign(name, address, "is inside a " + (1L << sc) + "-byte slot, not at its start, of");
        }
        if (checked) {
            if (byteSize > 1L << sc) {
                throw new IllegalArgumentException("address " + Checks.hex(address) + " is a " + (1L << sc)
                        + "-byte slot; it cannot hold the " + byteSize + " bytes given");
            }
            int slot = layout.slotNumberOf(offset, sc);
            long word = meta.getLongVolatile(metadata.bitmapWordOffset(layout.slabOf(offset), sc, slot));
            if ((word & HeapMetadata.bitmapBit(slot)) == 0) {
                throw notHandedOut(address);
            }
        }
        return offset;
    }

    private IllegalArgumentException notHandedOut(long address) {
        return Checks.foreign(name, address, "is not a live block (a double free, a stale pointer, or never handed out) of");
    }

    /** Frees the slot at {@code offset}, which {@link #slotOffset} accepted. */
    public void free(long offset) {
        final int sc = layout.sizeClassOf(offset);
        final int slab = layout.slabOf(offset);
        final int slot = layout.slotNumberOf(offset, sc);
        if (checked) {
            long bit = HeapMetadata.bitmapBit(slot);
            long before = meta.getAndBitwiseAndLong(metadata.bitmapWordOffset(slab, sc, slot), ~bit);
            if ((before & bit) == 0) {
                throw notHandedOut(layout.base() + offset); // lost a race with another free of it
            }
        }
        if (sc >= releaseClass) {
            Native.releasePages(slots.slice(offset, 1L << sc));
        }
        push(slab, sc, slot, offset);
    }

    /** Size class of a slot offset {@link #slotOffset} accepted. */
    public int sizeClassOf(long offset) {
        return layout.sizeClassOf(offset);
    }

    /** The class a block that grows to {@code newSize} should move to (growers get headroom). */
    public int growthClass(long newSize, long byteAlignment) {
        int needed = AddressLayout.sizeClassFor(newSize, byteAlignment);
        if (needed <= PAGE_CLASS) {
            return needed;
        }
        return Math.min(layout.maxClass(), Math.max(needed + GROWER_HEADROOM, GROWER_CLASS));
    }

    // ------------------------------------------------------------ statistics

    /** Counts of one slab of one class, by walking its list. */
    public record SlabCounts(long slotsInUse, long slotsTouched, long bytesResident) {
    }

    /**
     * Walks the list of ({@code slab}, {@code sizeClass}). Exact when no other thread allocates or
     * frees meanwhile; costs time in proportion to the free touched slots.
     */
    public SlabCounts count(int slab, int sizeClass) {
        final int slotCount = layout.slotsPerSlab(sizeClass);
        int entry = HeadWord.entry(headAcquire(metadata.headOffset(slab, sizeClass)));
        long freeTouched = 0;
        while (HeadWord.touched(entry) && freeTouched < slotCount) {
            int slot = HeadWord.slotNumber(entry);
            long link = linkAt(slab, sizeClass, slot, layout.offsetOf(slab, sizeClass, slot));
            int next = HeadWord.linkEntry(link);
            if (!HeadWord.linkIntact(link) || !HeadWord.nextValid(next, slot, slotCount)) {
                break; // raced with another thread, or a corrupt list: stop counting here
            }
            freeTouched++;
            entry = next;
        }
        long touched = HeadWord.touched(entry) ? slotCount : HeadWord.slotNumber(entry);
        long inUse = Math.max(0, touched - freeTouched);
        long resident = touched == 0 ? 0
                : Native.residentBytes(layout.base() + layout.offsetOf(slab, sizeClass, 0), touched << sizeClass);
        return new SlabCounts(inUse, touched, resident);
    }

    private static String where(int slab, int sizeClass) {
        return "size class " + sizeClass + " (" + (1L << sizeClass) + "-byte slots), slab " + slab;
    }

    // ------------------------------------------------------------ white-box hooks for tests

    /** The raw head word of a slab (tests). */
    public long headWord(int slab, int sizeClass) {
        return headAcquire(metadata.headOffset(slab, sizeClass));
    }

    /** The slab this thread allocates from first (tests). */
    public int currentSlab() {
        return SLAB_HINTS[(int) Thread.currentThread().threadId() & (HINTS - 1)] & slabMask;
    }

    @Override
    public String toString() {
        return "SlabHeap[" + name + ", " + layout.slabs() + " slabs per class]";
    }
}
