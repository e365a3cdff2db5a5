package org.smalloc4j.tools.replay;

/**
 * Internal waste of one allocator in one size class: what its blocks could hold beyond what was asked
 * for, over every block a replay made or resized whose requested size falls in the class.
 *
 * @param maxBytes the class: requested sizes above {@code maxBytes / 2} up to {@code maxBytes} (0 and 1
 *        fall in class 1)
 * @param blocks blocks made (alloc, allocZeroed) or resized (realloc) with a size in the class
 * @param requestedBytes the sizes asked for, summed
 * @param usableBytes the usable sizes the allocator gave them, summed
 */
public record SizeClassWaste(long maxBytes, long blocks, long requestedBytes, long usableBytes) {

    /** Usable bytes beyond the requested ones. */
    public long wasteBytes() {
        return usableBytes - requestedBytes;
    }

    /** Waste as a share of the usable bytes, 0 .. 1 (0 when nothing was usable). */
    public double wasteShare() {
        return usableBytes == 0 ? 0 : (double) wasteBytes() / usableBytes;
    }
}
