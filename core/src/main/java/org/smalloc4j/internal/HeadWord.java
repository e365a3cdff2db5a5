package org.smalloc4j.internal;

/**
 * The free-list head word of one slab, and the link a free slot stores. Both are plain 64-bit values;
 * this class alone knows their bits.
 *
 * <pre>
 *  head word (8 bytes, in the heap's metadata; changed only by compare-and-set)
 *   63                        32  31        30                    0
 *  +----------------------------+---------+----------------------+
 *  | push counter (32)          | touched | slot number (31)     |
 *  +----------------------------+---------+----------------------+
 *                               |&lt;--------- entry (32) ---------&gt;|
 *
 *  link (what a free slot of 8 bytes or more holds in its first 8 bytes)
 *   63                        32  31                              0
 *  +----------------------------+--------------------------------+
 *  | ~entry (check)             | entry of the next free slot    |
 *  +----------------------------+--------------------------------+
 *  (4-byte slots hold the entry alone)
 * </pre>
 *
 * An <em>entry</em> names the first free slot: its slot number and whether that slot was
 * <em>touched</em>, that is, handed out before and now holds a link to the next entry. An untouched
 * slot was never handed out: its next is simply slot + 1, also untouched, and its memory is still
 * zero. The entry whose slot number equals the slab's slot count (untouched) is the end: the slab is
 * full. A fresh slab's head word is 0: slot 0, untouched, counter 0, which is what a new mapping
 * holds, so slabs need no initialisation.
 *
 * <p>Every push adds one to the counter, so a head that was popped and pushed back between
 * another thread's read and its compare-and-set no longer matches (the ABA problem).
 */
public final class HeadWord {

    private static final int TOUCHED = 1 << 31;
    private static final int SLOT_MASK = ~TOUCHED;
    private static final long ENTRY_MASK = 0xFFFF_FFFFL;
    private static final long COUNTER_ONE = 1L << 32;

    private HeadWord() {
    }

    public static int entry(long head) {
        return (int) head;
    }

    public static int slotNumber(int entry) {
        return entry & SLOT_MASK;
    }

    public static boolean touched(int entry) {
        return entry < 0;
    }

    /** The counter half: how many pushes this slab has seen (mod 2^32). */
    public static int pushCount(long head) {
        return (int) (head >>> 32);
    }

    /** The entry of an untouched slot (also the end entry, with the slot count as slot number). */
    public static int untouched(int slotNumber) {
        return slotNumber;
    }

    /** The head after popping: same counter, the popped slot's next entry. */
    public static long popped(long head, int nextEntry) {
        return (head & ~ENTRY_MASK) | (nextEntry & ENTRY_MASK);
    }

    /** The head after pushing {@code slotNumber}: counter + 1, the slot as a touched entry. */
    public static long pushed(long head, int slotNumber) {
        return ((head & ~ENTRY_MASK) + COUNTER_ONE) | ((slotNumber | TOUCHED) & ENTRY_MASK);
    }

    /** The head of a list set aside: counter + 1, the end entry (an empty list). */
    public static long ended(long head, int slotCount) {
        return ((head & ~ENTRY_MASK) + COUNTER_ONE) | (untouched(slotCount) & ENTRY_MASK);
    }

    /** The link a free slot of 8 bytes or more stores: the entry and its complement as a check. */
    public static long link(int nextEntry) {
        return (nextEntry & ENTRY_MASK) | ((long) ~nextEntry << 32);
    }

    /** Is this 8-byte link intact (check half equals the complement of the entry half)? */
    public static boolean linkIntact(long link) {
        return (int) (link >>> 32) == ~(int) link;
    }

    public static int linkEntry(long link) {
        return (int) link;
    }

    /**
     * Can {@code next} follow free slot {@code current} in a slab of {@code slotCount} slots? A
     * touched entry names another slot below the count; an untouched one names the first
     * never-touched slot, which lies above every touched one, up to the count (the count is the end).
     */
    public static boolean nextValid(int next, int current, int slotCount) {
        int slot = slotNumber(next);
        return touched(next) ? slot < slotCount && slot != current : slot > current && slot <= slotCount;
    }
}
