package org.smalloc4j.internal;

/**
 * Where a heap keeps its bookkeeping, outside the slots, in one reservation of its own:
 *
 * <pre>
 *  +--------------------------------+---------------------------------+---------------------------+
 *  | heads: one 64-byte line per    | side links: one 8-byte link per | checked bitmap: one bit   |
 *  | (slab, class), [slab][class]   | slot of each released class     | per slot (checked heaps)  |
 *  +--------------------------------+---------------------------------+---------------------------+
 * </pre>
 *
 * <b>Heads.</b> Each head word has a cache line to itself, so threads on different slabs never share
 * a line. The lines are ordered [slab][class] from a page boundary: the head of (slab, sc) is line
 * {@code slab * 2^classBits + sc}, which lies in L1 set {@code sc} or {@code sc + 32} (of 64), and
 * since {@code sc >= 2} it never lies in set 0. Slot 0 of every slab is page-aligned and so always
 * in set 0: the hottest slot of a slab and its head can never evict each other, and their low 12
 * address bits never match (no 4K aliasing between the link store and the head load). With heads
 * at the start of the slot region instead, an alloc+free pair was measured at 34-36 ns instead of 8-9.
 *
 * <p><b>Side links.</b> Classes whose freed slots give their pages back to the OS keep the free-list
 * link here rather than in the slot, so a freed slot keeps no page resident at all.
 *
 * <p><b>Checked bitmap.</b> One bit per slot, set while the slot is handed out, so a double free or
 * a free of a slot never handed out is caught. Reserved only for checked heaps; untouched pages of all
 * three sections cost nothing.
 *
 * <p>It extends {@link AddressLayout} for the reason given there: one object holds every number the
 * hot path needs.
 */
public class HeapMetadata extends AddressLayout {

    /** A cache line: the unit of false sharing, and the spacing of head words. */
    public static final int LINE_BYTES = 64;

    private final int classBits;
    private final long sideLinksStart;
    private final long sideBytesPerSlab;
    private final long[] sideClassOffset;
    private final long bitmapStart;
    private final long bitmapBytesPerSlab;
    private final long[] bitmapClassOffset;
    private final long metadataBytes;

    /**
     * @param base the slot reservation's start (see {@link AddressLayout})
     * @param releaseClass the smallest class whose links live on the side (above maxClass: none)
     * @param checked whether to lay out the bitmap
     */
    protected HeapMetadata(long base, int slotBits, int maxClass, int slabBits, int releaseClass, boolean checked) {
        super(base, slotBits, maxClass, slabBits);
        this.classBits = classBits();
        int classes = 1 << classBits;
        long headsBytes = (long) slabs() * classes * LINE_BYTES;

        this.sideClassOffset = new long[classes];
        long side = 0;
        for (int sc = releaseClass; sc <= maxClass; sc++) {
            sideClassOffset[sc] = side;
            side += (long) slotsPerSlab(sc) * Long.BYTES;
        }
        this.sideBytesPerSlab = side;
        this.sideLinksStart = roundUpToPage(headsBytes);

        this.bitmapClassOffset = new long[classes];
        long bits = 0;
        if (checked) {
            for (int sc = AddressLayout.MIN_CLASS; sc <= maxClass; sc++) {
                bitmapClassOffset[sc] = bits;
                bits += Math.ceilDiv((long) slotsPerSlab(sc), Long.SIZE) * Long.BYTES;
            }
        }
        this.bitmapBytesPerSlab = bits;
        this.bitmapStart = roundUpToPage(sideLinksStart + side * slabs());
        this.metadataBytes = roundUpToPage(bitmapStart + bits * slabs());
    }

    /** Bytes of metadata a heap of this shape reserves. */
    public static long metadataBytesFor(int slotBits, int maxClass, int slabBits, int releaseClass, boolean checked) {
        return new HeapMetadata(0, slotBits, maxClass, slabBits, releaseClass, checked).metadataBytes();
    }

    private static long roundUpToPage(long bytes) {
        return Native.roundUpToPage(bytes);
    }

    /** Bytes of the metadata reservation. */
    public final long metadataBytes() {
        return metadataBytes;
    }

    /** Offset of the head word of ({@code slab}, {@code sizeClass}). */
    public final long headOffset(int slab, int sizeClass) {
        return (((long) slab << classBits) | sizeClass) * LINE_BYTES;
    }

    /** Offset of the side link of a slot of a released class. */
    public final long sideLinkOffset(int slab, int sizeClass, int slotNumber) {
        return sideLinksStart + slab * sideBytesPerSlab + sideClassOffset[sizeClass] + (long) slotNumber * Long.BYTES;
    }

    /** Offset of the bitmap word holding the bit of a slot (checked heaps only). */
    public final long bitmapWordOffset(int slab, int sizeClass, int slotNumber) {
        return bitmapStart + slab * bitmapBytesPerSlab + bitmapClassOffset[sizeClass] + ((long) (slotNumber >>> 6) << 3);
    }

    /** The bit of a slot within its bitmap word. */
    public static long bitmapBit(int slotNumber) {
        return 1L << slotNumber;
    }
}
