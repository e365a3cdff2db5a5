package org.smalloc4j;

import java.util.List;

/**
 * A snapshot of a Smalloc heap, per size class and slab: what {@link Smalloc#stats()} returns.
 * Exact when no other thread allocates or frees while it is taken.
 *
 * @param heapName the heap's {@link Smalloc#name()}
 * @param classes one entry per size class the heap hands out, smallest first
 * @param pageSize bytes in a page of memory: residency is counted in whole pages, so the slots of a
 *        small class that share one page show that page's bytes (see {@link #bytesSpanned})
 */
public record SmallocStats(String heapName, List<SizeClass> classes, long pageSize) {

    /** @throws IllegalArgumentException if {@code pageSize} is not a positive power of two */
    public SmallocStats {
        classes = List.copyOf(classes);
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size " + pageSize + " is not a positive power of two");
        }
    }

    /**
     * One size class.
     *
     * @param sizeClass log2 of the slot size
     * @param slotSize bytes per slot (a power of two)
     * @param slotsPerSlab slots one slab of this class holds
     * @param slotsInUse slots handed out and not freed
     * @param slotsTouched slots handed out at least once (the rest were never touched)
     * @param bytesResident bytes of this class's touched slots in physical memory ({@code mincore})
     * @param slabs the same counts per slab, slab 0 first
     */
    public record SizeClass(int sizeClass, long slotSize, long slotsPerSlab, long slotsInUse, long slotsTouched,
                            long bytesResident, List<Slab> slabs) {
        public SizeClass {
            slabs = List.copyOf(slabs);
        }

        /** Bytes in slots handed out: {@code slotsInUse * slotSize}. */
        public long bytesInUse() {
            return slotsInUse * slotSize;
        }

        /** Bytes in slots handed out at least once: {@code slotsTouched * slotSize}. */
        public long bytesTouched() {
            return slotsTouched * slotSize;
        }
    }

    /**
     * One slab of one size class.
     *
     * @param slab the slab's number
     * @param slotsInUse slots handed out and not freed
     * @param slotsTouched slots handed out at least once
     * @param bytesResident bytes of its touched slots in physical memory
     */
    public record Slab(int slab, long slotsInUse, long slotsTouched, long bytesResident) {
    }

    /** Slots handed out and not freed, over all classes. */
    public long slotsInUse() {
        return classes.stream().mapToLong(SizeClass::slotsInUse).sum();
    }

    /** Bytes in slots handed out and not freed (slot sizes, not requested sizes). */
    public long bytesInUse() {
        return classes.stream().mapToLong(SizeClass::bytesInUse).sum();
    }

    /**
     * Bytes of the heap in physical memory, as {@code mincore} tells: pages mapped into the process.
     * A never-written page that was read (a check that fresh memory is zero, say) is mapped to the
     * kernel's shared zero page: it counts here, though it costs no memory and the process's RSS leaves
     * it out. So this can exceed the heap's share of the RSS by the pages that were only ever read.
     */
    public long bytesResident() {
        return classes.stream().mapToLong(SizeClass::bytesResident).sum();
    }

    /**
     * The bytes of the whole pages that hold a slab's touched slots, which lie one after the other
     * at the start of the slab: the most its {@link Slab#bytesResident()} can be, unless the slab is
     * smaller than a page (then slabs share their pages, and each counts them). 0 for a slab with no
     * touched slot.
     */
    public long bytesSpanned(SizeClass sizeClass, Slab slab) {
        long touchedBytes = slab.slotsTouched() * sizeClass.slotSize();
        return (touchedBytes + pageSize - 1) & -pageSize;
    }

    /** The entry of {@code sizeClass}. @throws IllegalArgumentException if the heap has no such class */
    public SizeClass sizeClass(int sizeClass) {
        return classes.stream().filter(c -> c.sizeClass() == sizeClass).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("heap '" + heapName + "' has no size class " + sizeClass));
    }
}
