package org.smalloc4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Freed slots one thread keeps for its next allocations of the same class: a small LIFO stack per
 * size class, in Java memory, touched by its owner thread only and therefore with plain loads and
 * stores. An alloc+free pair that stays in the cache costs no atomic instruction; the slab lists
 * (compare-and-set) serve what the cache cannot.
 *
 * <p>Ownership: a heap has a table of caches indexed like its slab hints (thread id modulo the table
 * size). A thread owns the cache at its index if it created it or took it over from a dead owner; a
 * live owner keeps it for life, so {@code words[OWNER_ID] == threadId} read with a plain load proves
 * ownership (no other thread ever writes this thread's id there). Threads whose index is owned by a
 * live thread use the slab lists directly. A dead owner's slots stay cached until a thread of the same
 * index takes the cache over, which its termination makes safe (a thread's actions happen-before
 * another thread sees it is no longer alive).
 *
 * <p>One {@code long} array holds it all, so that the hot path loads one array and two threads' caches
 * never share a cache line (64 bytes of padding at either end, wherever the garbage collector moves
 * the arrays): class {@code sc}'s count and capacity in one word, {@code words[COUNTS + sc]}
 * ({@link #count}, {@link #capacity}: one load serves a free's test for room), its slots at
 * {@code words[slot(sc, i)]} for {@code i < count}, as slot offsets from the heap's base; the top of
 * the stack is the last one. Adding or taking 1 from the word changes the count alone.
 */
final class ThreadCache {

    /** Slots a class can hold at most (a class's capacity may be smaller: see the heap). */
    static final int STRIDE = 64;
    /** Longs of padding before the owner's id and after the last slot: a cache line. */
    private static final int PAD = 8;
    /**
     * Index of the owner's thread id: plain, written by the owner only (see the class comment), in
     * the array itself so that the hot path finds it with the counts, one load after the table's.
     */
    static final int OWNER_ID = PAD;
    /**
     * Index of class 0's word: the count in the low 32 bits, the capacity (the heap's, copied here so
     * that a free reads one word) in the high ones; classes are below 32 (a heap's largest slot is 2^31).
     */
    static final int COUNTS = OWNER_ID + 1;
    private static final int SLOTS = COUNTS + 32;

    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(ThreadCache.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The owner, changed by compare-and-set only when taking over from a dead owner. */
    @SuppressWarnings("unused") // through OWNER
    private volatile Thread owner;
    /** Counts and slots, see the class comment. */
    final long[] words;

    /** @param capacities slots each class may hold, at most {@link #STRIDE}; its length is the classes cached */
    ThreadCache(Thread owner, int[] capacities) {
        assert capacities.length <= SLOTS - COUNTS;
        this.owner = owner;
        this.words = new long[SLOTS + capacities.length * STRIDE + PAD];
        words[OWNER_ID] = owner.threadId();
        for (int sc = 0; sc < capacities.length; sc++) {
            words[COUNTS + sc] = (long) capacities[sc] << 32;
        }
    }

    /** The count of a class's word ({@code words[COUNTS + sc]}). */
    static int count(long word) {
        return (int) word;
    }

    /** The capacity of a class's word. */
    static int capacity(long word) {
        return (int) (word >>> 32);
    }

    /** Index of the {@code i}-th slot of class {@code sizeClass}. */
    static int slot(int sizeClass, int i) {
        return SLOTS + sizeClass * STRIDE + i;
    }

    /**
     * Makes {@code thread} the owner if the present owner has terminated.
     *
     * @return true if {@code thread} owns this cache now
     */
    boolean takeOverFromDeadOwner(Thread thread) {
        Thread present = owner;
        if (present == thread) {
            return true;
        }
        if (present.isAlive() || !OWNER.compareAndSet(this, present, thread)) {
            return false;
        }
        words[OWNER_ID] = thread.threadId();
        return true;
    }
}
