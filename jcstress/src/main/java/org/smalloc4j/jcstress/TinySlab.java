package org.smalloc4j.jcstress;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.smalloc4j.internal.AddressLayout;
import org.smalloc4j.internal.HeapMetadata;
import org.smalloc4j.internal.SlabHeap;

/**
 * A whole {@link SlabHeap} of 256 bytes for one jcstress state: one slab per class, class 4 with
 * 2 slots of 16 bytes, class 3 with 4 slots of 8 bytes. jcstress makes thousands of states, so
 * none of them maps memory: slots and metadata come from an automatic arena, zero-filled as a
 * fresh mapping is, and given back by the garbage collector with the state. The heap is the
 * product's class with a smaller shape; pop, push and the head word run the same code.
 */
final class TinySlab {

    // chosen
    /** log2 of a slab's bytes: 32-byte slabs. */
    private static final int SLOT_BITS = 5;
    /** The largest class: 16-byte slots, 2 per slab. */
    static final int TWO_SLOTS = 4;
    /** 8-byte slots, 4 per slab; links are whole words with their intact check. */
    static final int FOUR_SLOTS = 3;
    /** One slab per class: every actor works on the same list. */
    private static final int SLAB_BITS = 0;
    static final int SLAB = 0;
    /** Above the largest class: every link lives in its slot, as for small blocks. */
    private static final int RELEASE_CLASS = TWO_SLOTS + 1;

    private final Arena arena = Arena.ofAuto();
    private final SlabHeap heap;

    TinySlab() {
        long byteSize = AddressLayout.byteSize(SLOT_BITS, TWO_SLOTS, SLAB_BITS); // 256
        long metadataBytes = HeapMetadata.metadataBytesFor(SLOT_BITS, TWO_SLOTS, SLAB_BITS, RELEASE_CLASS, false);
        MemorySegment slots = arena.allocate(byteSize, byteSize); // aligned to its size, as the layout asks
        MemorySegment metadata = arena.allocate(metadataBytes, HeapMetadata.LINE_BYTES);
        heap = new SlabHeap("jcstress", slots.address(), SLOT_BITS, TWO_SLOTS, SLAB_BITS, RELEASE_CLASS,
                false, metadata.address(), arena, false);
    }

    /** One pop: a slot number (its {@link SlabHeap#FRESH} bit dropped), EMPTY or CONTENDED. */
    long popOnce(int sizeClass) {
        long popped = heap.pop(SLAB, sizeClass);
        return popped < 0 ? popped : (int) popped;
    }

    /** Pops in setup and arbiters, where no other thread runs. */
    int popAlone(int sizeClass) {
        long popped = popOnce(sizeClass);
        if (popped < 0) {
            throw new IllegalStateException("setup pop returned " + popped);
        }
        return (int) popped;
    }

    void push(int sizeClass, int slotNumber) {
        heap.push(SLAB, sizeClass, slotNumber, heap.layout().offsetOf(SLAB, sizeClass, slotNumber));
    }

    /** Pops every slot left, one bit per slot number; -1 if a slot comes out twice (a cycle). */
    int drain(int sizeClass) {
        int left = 0;
        for (long popped; (popped = popOnce(sizeClass)) >= 0; ) {
            int bit = 1 << popped;
            if ((left & bit) != 0) {
                return -1;
            }
            left |= bit;
        }
        return left;
    }
}
