package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.smalloc4j.internal.SlabHeap;

/**
 * Smalloc's per-thread caches of freed small slots: what they keep, what they hand back, who owns
 * them, that statistics and verification see through them, and that a checked heap has none.
 */
class SmallocThreadCacheTest {

    /** Thread ids map to caches modulo this (SlabHeap's hint table). */
    private static final int CACHE_INDEXES = 256;

    private static Smalloc heap(boolean checked) {
        return Smalloc.builder().slabsPerClass(4).slabBytes(1 << 20).largestSlot(1 << 16).checked(checked)
                .name("cache").build();
    }

    private static int cacheIndex(Thread thread) {
        return (int) thread.threadId() & (CACHE_INDEXES - 1);
    }

    @Test
    void buildersAndTheGlobalHeapHaveCachesUnlessSwitchedOff() {
        try (Smalloc on = heap(false);
             Smalloc off = Smalloc.builder().threadCaches(false).build()) {
            assertTrue(on.threadCaches());
            assertFalse(off.threadCaches());
        }
        assertTrue(Smalloc.global().threadCaches(), "the test JVM does not set smalloc4j.threadCaches=false");
    }

    @Test
    void aFreedSlotComesBackWithoutTouchingItsSlabList() {
        try (Smalloc smalloc = heap(false)) {
            SlabHeap slabs = smalloc.slabHeap();
            long block = smalloc.alloc(100, 8);
            long offset = slabs.layout().offsetOf(block);
            int slab = slabs.layout().slabOf(offset);
            int sc = slabs.layout().sizeClassOf(offset);
            long head = slabs.headWord(slab, sc);
            for (int k = 0; k < 1000; k++) {
                smalloc.dealloc(block, 100, 8);
                assertEquals(block, smalloc.alloc(100, 8), "LIFO through the cache");
            }
            assertEquals(head, slabs.headWord(slab, sc), "the pairs stayed in the cache: the list's head is unchanged");
            smalloc.dealloc(block, 100, 8);
        }
    }

    @Test
    void slotsBeyondTheCachesCapacityGoBackToTheirLists() {
        try (Smalloc smalloc = heap(false)) {
            SlabHeap slabs = smalloc.slabHeap();
            int blocks = 200; // more than the 64 slots a cache keeps of a class
            List<Long> addresses = new ArrayList<>();
            for (int k = 0; k < blocks; k++) {
                addresses.add(smalloc.alloc(16, 1));
            }
            long offset = slabs.layout().offsetOf(addresses.getFirst());
            int slab = slabs.layout().slabOf(offset);
            long headBefore = slabs.headWord(slab, 4);
            for (long address : addresses) {
                smalloc.dealloc(address, 16, 1);
            }
            assertNotEquals(headBefore, slabs.headWord(slab, 4), "the overflow was pushed on the list");
            assertEquals(64, slabs.cachedSlots(4)[slab], "the cache is full");
            assertEquals(0, smalloc.stats().slotsInUse(), "cached slots count as free");
            smalloc.verify();
            // all of them come back, the cached ones first (the last one cached first)
            Set<Long> again = new HashSet<>();
            for (int k = 0; k < blocks; k++) {
                long address = smalloc.alloc(16, 1);
                if (k == 0) {
                    assertEquals(addresses.get(63), address);
                }
                again.add(address);
            }
            assertEquals(new HashSet<>(addresses), again, "the same slots, each once");
            assertEquals(blocks, smalloc.stats().slotsInUse());
            again.forEach(address -> smalloc.dealloc(address, 16, 1));
        }
    }

    @Test
    void aClosedHeapRefusesCallsThatItsCachesCouldServe() {
        Smalloc smalloc = heap(false);
        long cached = smalloc.alloc(64, 8);
        smalloc.dealloc(cached, 64, 8); // now in this thread's cache
        long held = smalloc.alloc(128, 8);
        smalloc.close();
        IllegalStateException alloc = assertThrows(IllegalStateException.class, () -> smalloc.alloc(64, 8));
        assertTrue(alloc.getMessage().contains("closed"), alloc.getMessage());
        assertThrows(IllegalStateException.class, () -> smalloc.dealloc(held, 128, 8));
        assertThrows(IllegalStateException.class, () -> smalloc.dealloc(0, 128, 8));
        assertThrows(IllegalStateException.class, () -> smalloc.dealloc(cached + 1, 64, 8), "closed before not-a-slot");
        assertThrows(IllegalStateException.class, () -> smalloc.allocZeroed(64, 8));
    }

    @Test
    void aCheckedHeapKeepsNoCachesSoEveryFreeMeetsTheListsChecks() {
        try (Smalloc smalloc = heap(true)) {
            assertFalse(smalloc.threadCaches());
            long block = smalloc.alloc(64, 8);
            smalloc.dealloc(block, 64, 8);
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> smalloc.dealloc(block, 64, 8));
            assertTrue(twice.getMessage().contains(String.format("0x%x", block)), twice.getMessage());
            smalloc.verify();
            assertEquals(block, smalloc.alloc(64, 8), "the slot went back to its list intact and is handed out once");
            smalloc.verify();
            smalloc.dealloc(block, 64, 8);
        }
    }

    @Test
    void anEndedThreadsCacheIsTakenOverByTheNextThreadOfItsIndex() throws InterruptedException {
        try (Smalloc smalloc = heap(false)) {
            AtomicLong freedLast = new AtomicLong();
            Thread first = Thread.ofPlatform().start(() -> {
                long a = smalloc.alloc(256, 8);
                long b = smalloc.alloc(256, 8);
                smalloc.dealloc(a, 256, 8);
                smalloc.dealloc(b, 256, 8);
                freedLast.set(b);
            });
            first.join();
            assertEquals(0, smalloc.stats().slotsInUse(), "the ended thread's cached slots count as free");
            smalloc.verify();
            // thread ids grow one by one: within 256 new threads one lands on the same cache index
            AtomicLong got = new AtomicLong();
            for (int k = 0; k < 4 * CACHE_INDEXES && got.get() == 0; k++) {
                Thread next = Thread.ofPlatform().unstarted(() -> got.set(smalloc.alloc(256, 8)));
                if (cacheIndex(next) != cacheIndex(first)) {
                    continue;
                }
                next.start();
                next.join();
            }
            assertEquals(freedLast.get(), got.get(), "the new thread took the cache over and got its top slot");
            smalloc.dealloc(got.get(), 256, 8);
            smalloc.verify();
        }
    }

    @Test
    void aLiveThreadKeepsItsCacheFromAnotherThreadOfTheSameIndex() throws InterruptedException {
        try (Smalloc smalloc = heap(false)) {
            AtomicLong cached = new AtomicLong();
            AtomicLong reused = new AtomicLong();
            CountDownLatch freed = new CountDownLatch(1);
            CountDownLatch otherDone = new CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                long block = smalloc.alloc(512, 8);
                smalloc.dealloc(block, 512, 8);
                cached.set(block);
                freed.countDown();
                try {
                    otherDone.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                reused.set(smalloc.alloc(512, 8));
            });
            freed.await();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            boolean ran = false;
            for (int k = 0; k < 4 * CACHE_INDEXES && !ran; k++) {
                Thread other = Thread.ofPlatform().unstarted(() -> {
                    try {
                        for (int i = 0; i < 100; i++) {
                            long block = smalloc.alloc(512, 8);
                            assertNotEquals(cached.get(), block, "took a slot from a live thread's cache");
                            smalloc.dealloc(block, 512, 8); // no cache of its own: straight to the list
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                if (cacheIndex(other) != cacheIndex(owner)) {
                    continue;
                }
                other.start();
                other.join();
                ran = true;
            }
            otherDone.countDown();
            owner.join();
            assertTrue(ran, "no thread of the owner's cache index was made");
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(cached.get(), reused.get(), "the owner's cached slot waited for it");
            smalloc.dealloc(reused.get(), 512, 8);
            smalloc.verify();
        }
    }

    @Test
    void overflowTakesThisThreadsCachedSlotsOfTheLargerClass() {
        // one slab per class, 32 slots of 128 bytes and 64 of 64 bytes
        try (Smalloc smalloc = Smalloc.builder().slabsPerClass(1).slabBytes(4096).largestSlot(128).name("small").build()) {
            List<Long> large = new ArrayList<>();
            for (long a; (a = smalloc.alloc(128, 8)) != 0; ) {
                large.add(a);
            }
            assertEquals(32, large.size());
            long cachedLarge = large.removeLast();
            smalloc.dealloc(cachedLarge, 128, 8);
            List<Long> small = new ArrayList<>();
            for (int k = 0; k < 64; k++) {
                small.add(smalloc.alloc(64, 8));
            }
            assertEquals(64, smalloc.usableSize(small.getLast()));
            assertEquals(cachedLarge, smalloc.alloc(64, 8), "the 64-byte class is full: overflow to the cached 128-byte slot");
            assertEquals(0, smalloc.alloc(64, 8), "then the heap is exhausted");
        }
    }

    @Test
    void pagesOfReleasedClassesAreNeverCached() {
        try (Smalloc smalloc = Smalloc.builder().slabsPerClass(1).slabBytes(1L << 24).largestSlot(1L << 21)
                .releaseThreshold(1L << 20).name("release").build()) {
            SlabHeap slabs = smalloc.slabHeap();
            long block = smalloc.alloc(1L << 20, 8);
            smalloc.dealloc(block, 1L << 20, 8);
            assertEquals(0, slabs.cachedSlots(20)[0]);
            long big = smalloc.alloc(100_000, 8); // 128 KiB: the largest cached class
            smalloc.dealloc(big, 100_000, 8);
            assertEquals(1, slabs.cachedSlots(17)[0]);
        }
    }
}
