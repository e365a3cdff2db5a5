package org.smalloc4j.internal;

/**
 * What every bit of an address inside a Smalloc heap means. The heap's reservation is aligned to
 * its own size, so an address's offset from the base splits into fields by shifts and masks alone:
 *
 * <pre>
 *  63          slabShift+slabBits  slabShift        classShift            sizeClass       0
 *  +---------------+------------------+----------------+---------------------+---------+
 *  | base (fixed)  | slab (slabBits)  | class (cBits)  | slot number         | data    |
 *  +---------------+------------------+----------------+---------------------+---------+
 *                                                      |&lt;-- slotBits = log2(slabBytes) --&gt;|
 *
 *  global heap: slabBits 6 (64 slabs), classBits 5 (classes 0..31, 2..31 used),
 *               slotBits 32 (a slab is 4 GiB of address space): 43 bits, 8 TiB reserved
 * </pre>
 *
 * The class field holds the size class itself: class {@code sc} has slots of {@code 2^sc} bytes,
 * so its slab holds {@code 2^(slotBits - sc)} slots. Slot {@code n} of class {@code sc} starts at
 * {@code n << sc} inside its slab, so every slot is aligned to its own size. Classes below
 * {@link #MIN_CLASS} and above {@code maxClass} are never handed out: their address space stays
 * untouched and costs nothing. This is the one class that shifts address bits; everybody else asks it.
 *
 * <p>The heap's algorithm ({@link SlabHeap}) extends this class (through {@link HeapMetadata})
 * rather than holding one: after each compare-and-set the next access waits on every load before it,
 * and reading the layout's numbers from the heap object itself saves a pointer hop per operation.
 */
public class AddressLayout {

    // chosen
    /** 4-byte slots are the smallest: a free slot must hold a 4-byte next-slot number. */
    public static final int MIN_CLASS = 2;
    /** A slab holds at most 2^30 slots, so a slot number and the end sentinel fit in 31 bits. */
    public static final int MAX_SLOT_NUMBER_BITS = 30;
    /** The largest slab: 4-byte slots times 2^30 = 4 GiB. */
    public static final int MAX_SLOT_BITS = MIN_CLASS + MAX_SLOT_NUMBER_BITS; // 32

    private final long base;
    private final int slotBits;
    private final int classBits;
    private final int slabBits;
    private final int maxClass;

    // derived
    private final int classShift;   // = slotBits
    private final int slabShift;    // = slotBits + classBits
    private final long slotFieldMask;
    private final long byteSize;    // = 2^(slotBits + classBits + slabBits)

    /**
     * @param base the reservation's start, aligned to {@link #byteSize(int, int, int)}
     * @param slotBits log2 of a slab's bytes
     * @param maxClass the largest size class handed out ({@code <= slotBits})
     * @param slabBits log2 of the slabs per class
     */
    protected AddressLayout(long base, int slotBits, int maxClass, int slabBits) {
        assert slotBits <= MAX_SLOT_BITS && maxClass <= slotBits && maxClass >= MIN_CLASS;
        this.base = base;
        this.slotBits = slotBits;
        this.classBits = classBitsFor(maxClass);
        this.slabBits = slabBits;
        this.maxClass = maxClass;
        this.classShift = slotBits;
        this.slabShift = slotBits + classBits;
        this.slotFieldMask = (1L << slotBits) - 1;
        this.byteSize = byteSize(slotBits, maxClass, slabBits);
        assert (base & (byteSize - 1)) == 0 : "base " + Checks.hex(base) + " is not aligned to its size";
    }

    /** The bits of the class field: enough to hold {@code maxClass} itself. */
    public static int classBitsFor(int maxClass) {
        return 32 - Integer.numberOfLeadingZeros(maxClass);
    }

    /** Bytes a heap of this shape reserves (also the base's alignment). */
    public static long byteSize(int slotBits, int maxClass, int slabBits) {
        return 1L << (slotBits + classBitsFor(maxClass) + slabBits);
    }

    /** The smallest size class whose slots hold {@code byteSize} bytes aligned to {@code byteAlignment}. */
    public static int sizeClassFor(long byteSize, long byteAlignment) {
        long need = Math.max(byteSize, byteAlignment); // at least 1: an alignment is
        // the low bits set: needs up to 4 bytes go to the 4-byte class (an OR, where a max is a compare and a move)
        return 64 - Long.numberOfLeadingZeros((need - 1) | ((1L << MIN_CLASS) - 1));
    }

    public final long base() {
        return base;
    }

    public final long byteSize() {
        return byteSize;
    }

    public final int maxClass() {
        return maxClass;
    }

    public final int classBits() {
        return classBits;
    }

    public final int slabs() {
        return 1 << slabBits;
    }

    public final long slabBytes() {
        return 1L << slotBits;
    }

    /** Is {@code address} inside the reservation? */
    public final boolean contains(long address) {
        return Long.compareUnsigned(address - base, byteSize) < 0;
    }

    /** The offset of an address from the base; meaningful only when {@link #contains} holds. */
    public final long offsetOf(long address) {
        return address - base;
    }

    public final int sizeClassOf(long offset) {
        return (int) (offset >>> classShift) & ((1 << classBits) - 1);
    }

    public final int slabOf(long offset) {
        return (int) (offset >>> slabShift);
    }

    public final int slotNumberOf(long offset, int sizeClass) {
        return (int) ((offset & slotFieldMask) >>> sizeClass);
    }

    /** Is the offset the first byte of a slot of {@code sizeClass}? */
    public static boolean isSlotStart(long offset, int sizeClass) {
        return (offset & ((1L << sizeClass) - 1)) == 0;
    }

    /** The offset of slot {@code slotNumber} of class {@code sizeClass} in {@code slab}. */
    public final long offsetOf(int slab, int sizeClass, int slotNumber) {
        return ((long) slab << slabShift) | ((long) sizeClass << classShift) | ((long) slotNumber << sizeClass);
    }

    /** Slots in one slab of {@code sizeClass}: {@code slabBytes / 2^sizeClass}. */
    public final int slotsPerSlab(int sizeClass) {
        return 1 << (slotBits - sizeClass);
    }
}
