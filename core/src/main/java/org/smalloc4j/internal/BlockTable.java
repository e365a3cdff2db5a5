package org.smalloc4j.internal;

import java.util.Arrays;

/**
 * Live blocks by address, each with the size and alignment it was allocated with: an open-addressing
 * table (linear probing, deletion by backward shift, so no tombstones) in three parallel
 * {@code long} arrays. Lookups allocate nothing; the arrays double when half full. Address 0 marks an
 * empty entry and is never stored. Not thread-safe.
 */
public final class BlockTable {

    /** What {@link #forEach} does with each block. */
    @FunctionalInterface
    public interface BlockAction {
        void accept(long address, long byteSize, long byteAlignment);
    }

    /** Entries at first: 16 (a power of two, doubled when half full). */
    private static final int INITIAL_CAPACITY = 16;

    private long[] addresses = new long[INITIAL_CAPACITY];
    private long[] byteSizes = new long[INITIAL_CAPACITY];
    private long[] byteAlignments = new long[INITIAL_CAPACITY];
    private int count;

    /** Blocks in the table. */
    public int size() {
        return count;
    }

    /** The entry of {@code address}, or -1 when it is not in the table. */
    public int find(long address) {
        if (count == 0 || address == 0) {
            return -1;
        }
        int mask = addresses.length - 1;
        for (int i = home(address, mask); ; i = (i + 1) & mask) {
            long stored = addresses[i];
            if (stored == address) {
                return i;
            }
            if (stored == 0) {
                return -1;
            }
        }
    }

    /** The address of the block at entry {@code index} (from {@link #find}). */
    public long address(int index) {
        return addresses[index];
    }

    /** The size of the block at entry {@code index} (from {@link #find}). */
    public long byteSize(int index) {
        return byteSizes[index];
    }

    /** The alignment of the block at entry {@code index} (from {@link #find}). */
    public long byteAlignment(int index) {
        return byteAlignments[index];
    }

    /** Adds a block whose address is not in the table yet. */
    public void put(long address, long byteSize, long byteAlignment) {
        assert address != 0 : "address 0 marks an empty entry";
        assert find(address) < 0 : "block " + Checks.hex(address) + " is in the table already";
        if (2 * (count + 1) > addresses.length) {
            grow();
        }
        insert(address, byteSize, byteAlignment);
        count++;
    }

    /** Removes the block at entry {@code index} (from {@link #find}); other entries may move. */
    public void removeAt(int index) {
        assert addresses[index] != 0 : "entry " + index + " is empty";
        int mask = addresses.length - 1;
        int hole = index;
        addresses[hole] = 0;
        // move back every later entry of the run that may no longer be reached past the hole
        for (int i = (hole + 1) & mask; addresses[i] != 0; i = (i + 1) & mask) {
            int home = home(addresses[i], mask);
            boolean reachable = hole <= i ? hole < home && home <= i : hole < home || home <= i;
            if (!reachable) {
                addresses[hole] = addresses[i];
                byteSizes[hole] = byteSizes[i];
                byteAlignments[hole] = byteAlignments[i];
                addresses[i] = 0;
                hole = i;
            }
        }
        count--;
    }

    /** Calls {@code action} for every block, in no particular order. */
    public void forEach(BlockAction action) {
        for (int i = 0; i < addresses.length; i++) {
            if (addresses[i] != 0) {
                action.accept(addresses[i], byteSizes[i], byteAlignments[i]);
            }
        }
    }

    /** Empties the table (keeping its capacity). */
    public void clear() {
        if (count > 0) {
            Arrays.fill(addresses, 0);
            count = 0;
        }
    }

    private void grow() {
        long[] oldAddresses = addresses;
        long[] oldSizes = byteSizes;
        long[] oldAlignments = byteAlignments;
        int capacity = oldAddresses.length * 2;
        addresses = new long[capacity];
        byteSizes = new long[capacity];
        byteAlignments = new long[capacity];
        for (int i = 0; i < oldAddresses.length; i++) {
            if (oldAddresses[i] != 0) {
                insert(oldAddresses[i], oldSizes[i], oldAlignments[i]);
            }
        }
    }

    private void insert(long address, long byteSize, long byteAlignment) {
        int mask = addresses.length - 1;
        int i = home(address, mask);
        while (addresses[i] != 0) {
            i = (i + 1) & mask;
        }
        addresses[i] = address;
        byteSizes[i] = byteSize;
        byteAlignments[i] = byteAlignment;
    }

    /** Where the probe for {@code address} starts: Fibonacci hashing, high bits (block addresses share low zeros). */
    private static int home(long address, int mask) {
        return (int) ((address * 0x9E37_79B9_7F4A_7C15L) >>> 32) & mask;
    }
}
