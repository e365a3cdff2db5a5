package org.smalloc4j.tools.bench;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A bounded multi-producer, multi-consumer queue of blocks (an address and its tag) that never
 * waits and allocates nothing on the Java heap: how workloads pass blocks between threads. The tag
 * travels with the block, so that the thread that frees it checks it against what its producer
 * wrote.
 *
 * <p>Each cell holds a sequence number beside its value (Vyukov's bounded queue): a producer may
 * fill cell {@code i} when its sequence equals the tail position, a consumer may empty it when the
 * sequence is one past the head position. {@link #offer} and {@link #poll} fail at once on a full
 * or empty queue rather than wait, so a worker always finishes its operations.
 */
final class AddressQueue {

    private final int mask;
    private final AtomicLongArray sequence;
    private final long[] address;               // published by the release store of its sequence
    private final long[] tag;                   // likewise
    private final AtomicLong tail = new AtomicLong();
    private final AtomicLong head = new AtomicLong();

    /** @param capacity a power of two */
    AddressQueue(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity " + capacity + " is not a power of two");
        }
        this.mask = capacity - 1;
        this.sequence = new AtomicLongArray(capacity);
        this.address = new long[capacity];
        this.tag = new long[capacity];
        for (int i = 0; i < capacity; i++) {
            sequence.set(i, i);
        }
    }

    /** Adds a block (address not 0); false when the queue is full. */
    boolean offer(long blockAddress, long blockTag) {
        while (true) {
            final long position = tail.get();
            final int cell = (int) position & mask;
            final long cellSequence = sequence.getAcquire(cell);
            if (cellSequence == position) {
                if (tail.compareAndSet(position, position + 1)) {
                    address[cell] = blockAddress;
                    tag[cell] = blockTag;
                    sequence.setRelease(cell, position + 1);
                    return true;
                }
            } else if (cellSequence < position) {
                return false; // the cell still holds a value a lap behind: full
            }
            // else another producer took this position: read the tail again
        }
    }

    /**
     * Removes the oldest block: its address into {@code into[0]}, its tag into {@code into[1]}.
     *
     * @return false when the queue is empty
     */
    boolean poll(long[] into) {
        while (true) {
            final long position = head.get();
            final int cell = (int) position & mask;
            final long cellSequence = sequence.getAcquire(cell);
            if (cellSequence == position + 1) {
                if (head.compareAndSet(position, position + 1)) {
                    into[0] = address[cell];
                    into[1] = tag[cell];
                    sequence.setRelease(cell, position + mask + 1);
                    return true;
                }
            } else if (cellSequence < position + 1) {
                return false; // not yet filled: empty
            }
        }
    }
}
