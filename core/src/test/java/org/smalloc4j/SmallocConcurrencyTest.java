package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.smalloc4j.internal.Native;

/**
 * Many threads on one heap, every block filled with a pattern of its own (thread and block id) at
 * allocation and checked in full before it is freed or reallocated: a slot handed out twice, or a
 * free-list link written into a live block, shows as lost content. Random choices come from a
 * {@link SplittableRandom} whose seed each failure names; rerun one with
 * {@code -Dsmalloc4j.seed=<seed>} (the thread interleaving itself cannot be replayed).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SmallocConcurrencyTest {

    /** Operations per test case, over all its threads: the class runs in seconds on 2 cores. */
    private static final int OPS_PER_CASE = 200_000;
    private static final long KIB = 1 << 10;
    private static final long MIB = 1 << 20;

    enum HeapKind {
        /** {@link Smalloc#global()}: 64 slabs, never closed. */
        GLOBAL,
        /** A builder heap with 4 slabs per class (threads share slabs), slots up to 8 MiB. */
        BUILDER,
        /** The same, checked. */
        CHECKED;

        Smalloc open() {
            return switch (this) {
                case GLOBAL -> Smalloc.global();
                case BUILDER, CHECKED -> Smalloc.builder().slabsPerClass(4).slabBytes(1L << 26).largestSlot(8 * MIB)
                        .releaseThreshold(64 * KIB).checked(this == CHECKED).name("concurrency-" + this).build();
            };
        }

        /** Is this heap ours alone, so that its statistics are exact once the threads are done? */
        boolean owned() {
            return this != GLOBAL;
        }
    }

    private static long newSeed() {
        String fixed = System.getProperty("smalloc4j.seed");
        return fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    }

    // ------------------------------------------------------------ random alloc/free/realloc

    @ParameterizedTest(name = "{0} threads on {1}")
    @CsvSource({"2, GLOBAL", "4, GLOBAL", "16, GLOBAL", "2, BUILDER", "4, BUILDER", "16, BUILDER"})
    void randomAllocFreeReallocKeepsEveryBlocksContent(int threads, HeapKind kind) throws InterruptedException {
        randomMixOn(kind, threads);
    }

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {4, 16})
    void checkedHeapUnderConcurrencyThrowsNothing(int threads) throws InterruptedException {
        randomMixOn(HeapKind.CHECKED, threads);
    }

    private static void randomMixOn(HeapKind kind, int threads) throws InterruptedException {
        Smalloc smalloc = kind.open();
        try {
            Race race = new Race("random mix, " + threads + " threads on " + smalloc, threads, newSeed());
            race.run((thread, random) -> randomMix(smalloc, thread, random, OPS_PER_CASE / threads, race.context()));
            if (kind.owned()) {
                assertEquals(0, smalloc.stats().slotsInUse(), "every block was freed; " + race.context());
            }
        } finally {
            smalloc.close();
        }
    }

    /** Mostly 1..512 bytes, some up to 64 KiB, a few zero, rarely 1 to 2 MiB. */
    private static long pickSize(SplittableRandom random) {
        int roll = random.nextInt(10_000);
        if (roll < 5) {
            return MIB + random.nextLong(MIB);
        }
        if (roll < 800) {
            return 513 + random.nextLong(64 * KIB - 512);
        }
        if (roll < 850) {
            return 0;
        }
        return 1 + random.nextLong(512);
    }

    private static long pickAlignment(SplittableRandom random) {
        return random.nextInt(10) < 7 ? 1 : 1L << random.nextInt(13);
    }

    private static long key(int thread, long blockId) {
        return ((long) thread << 40) | blockId;
    }

    private static void randomMix(NativeAllocator allocator, int thread, SplittableRandom random, int ops,
                                  String context) {
        final int slots = 32;
        long[] address = new long[slots];
        long[] size = new long[slots];
        long[] alignment = new long[slots];
        long[] key = new long[slots];
        long blockId = 0;
        for (int op = 0; op < ops; op++) {
            int i = random.nextInt(slots);
            if (address[i] == 0) {
                long byteSize = pickSize(random);
                long byteAlignment = pickAlignment(random);
                boolean zeroed = random.nextInt(8) == 0;
                long p = zeroed ? allocator.allocZeroed(byteSize, byteAlignment) : allocator.alloc(byteSize, byteAlignment);
                if (p == 0) {
                    throw new AssertionError("could not allocate " + byteSize + " bytes; " + context);
                }
                if ((p & (byteAlignment - 1)) != 0) {
                    throw new AssertionError("0x" + Long.toHexString(p) + " is not aligned to " + byteAlignment + "; " + context);
                }
                MemorySegment block = BlockPattern.raw(p, byteSize);
                if (zeroed) {
                    long dirty = BlockPattern.firstNonZero(block);
                    if (dirty >= 0) {
                        throw new AssertionError("allocZeroed(" + byteSize + ") at 0x" + Long.toHexString(p)
                                + " has a non-zero byte at " + dirty + "; " + context);
                    }
                }
                key[i] = key(thread, ++blockId);
                BlockPattern.fill(block, key[i]);
                address[i] = p;
                size[i] = byteSize;
                alignment[i] = byteAlignment;
            } else {
                BlockPattern.check(BlockPattern.raw(address[i], size[i]), key[i], context);
                if (random.nextInt(4) == 0) {
                    long newSize = pickSize(random);
                    long p = allocator.realloc(address[i], size[i], alignment[i], newSize);
                    if (p == 0) {
                        throw new AssertionError("could not reallocate " + size[i] + " to " + newSize + " bytes; " + context);
                    }
                    if ((p & (alignment[i] - 1)) != 0) {
                        throw new AssertionError("realloc gave 0x" + Long.toHexString(p) + ", not aligned to "
                                + alignment[i] + "; " + context);
                    }
                    MemorySegment block = BlockPattern.raw(p, newSize);
                    long kept = Math.min(size[i], newSize);
                    long bad = BlockPattern.firstMismatch(block, key[i], 0, kept);
                    if (bad >= 0) {
                        throw new AssertionError("realloc of 0x" + Long.toHexString(address[i]) + " from " + size[i]
                                + " to " + newSize + " bytes (now 0x" + Long.toHexString(p) + ") lost byte " + bad + "; " + context);
                    }
                    if (newSize > size[i]) {
                        BlockPattern.fill(block, key[i], size[i], newSize);
                    }
                    address[i] = p;
                    size[i] = newSize;
                } else {
                    allocator.dealloc(address[i], size[i], alignment[i]);
                    address[i] = 0;
                }
            }
        }
        for (int i = 0; i < slots; i++) {
            if (address[i] != 0) {
                BlockPattern.check(BlockPattern.raw(address[i], size[i]), key[i], context);
                allocator.dealloc(address[i], size[i], alignment[i]);
            }
        }
    }

    // ------------------------------------------------------------ cross-thread free

    private record Block(long address, long byteSize, long key) {
    }

    private static final Block POISON = new Block(0, 0, 0);

    @ParameterizedTest(name = "{1} producers, {2} consumers on {0}")
    @CsvSource({"GLOBAL, 2, 2", "BUILDER, 1, 3", "BUILDER, 4, 4", "CHECKED, 3, 1"})
    void blocksFreedByOtherThreadsKeepContentAndAccountsReturnToZero(HeapKind kind, int producers, int consumers)
            throws InterruptedException {
        Smalloc smalloc = kind.open();
        try {
            Race race = new Race(producers + " producers, " + consumers + " consumers on " + smalloc,
                    producers + consumers, newSeed());
            BlockingQueue<Block> handOver = new ArrayBlockingQueue<>(512);
            Queue<Block> kept = new ConcurrentLinkedQueue<>();
            AtomicInteger producing = new AtomicInteger(producers);
            int perProducer = OPS_PER_CASE / 2 / producers;
            race.run((thread, random) -> {
                if (thread < producers) {
                    try {
                        for (int n = 0; n < perProducer && !race.failed(); n++) {
                            long byteSize = random.nextInt(100) < 95 ? 1 + random.nextInt(2048) : 2049 + random.nextLong(64 * KIB);
                            long p = smalloc.alloc(byteSize, 8);
                            if (p == 0) {
                                throw new AssertionError("could not allocate " + byteSize + " bytes; " + race.context());
                            }
                            Block block = new Block(p, byteSize, key(thread, n + 1));
                            BlockPattern.fill(BlockPattern.raw(p, byteSize), block.key());
                            if (n % 101 == 0) {
                                kept.add(block); // stays live: the statistics must count it
                            } else {
                                race.put(handOver, block);
                            }
                        }
                    } finally {
                        if (producing.decrementAndGet() == 0) {
                            for (int c = 0; c < consumers; c++) {
                                race.put(handOver, POISON);
                            }
                        }
                    }
                } else {
                    for (;;) {
                        Block block = handOver.poll(100, TimeUnit.MILLISECONDS);
                        if (block == POISON || block == null && race.failed()) {
                            return;
                        }
                        if (block != null) {
                            BlockPattern.check(BlockPattern.raw(block.address(), block.byteSize()), block.key(), race.context());
                            smalloc.dealloc(block.address(), block.byteSize(), 8);
                        }
                    }
                }
            });
            if (kind.owned()) {
                assertEquals(kept.size(), smalloc.stats().slotsInUse(), "only the kept blocks are in use; " + race.context());
            }
            for (Block block : kept) {
                BlockPattern.check(BlockPattern.raw(block.address(), block.byteSize()), block.key(), race.context());
                smalloc.dealloc(block.address(), block.byteSize(), 8);
            }
            if (kind.owned()) {
                assertEquals(0, smalloc.stats().slotsInUse(), "every block was freed; " + race.context());
            }
        } finally {
            smalloc.close();
        }
    }

    // ------------------------------------------------------------ hotspot: one slab for all

    @ParameterizedTest(name = "{0} threads, {1}-byte slots, thread caches {2}")
    @CsvSource({"2, 64, false", "4, 64, false", "16, 64, false", "4, 4, false", "16, 4, false",
            "2, 64, true", "16, 64, true", "16, 4, true"})
    void threadsFightingOverOneSlabNeverShareABlock(int threads, int slotSize, boolean threadCaches)
            throws InterruptedException {
        try (Smalloc smalloc = Smalloc.builder().slabsPerClass(1).slabBytes(1 << 16).largestSlot(1 << 12)
                .threadCaches(threadCaches).name("hotspot").build()) {
            final int minSize = slotSize == 4 ? 0 : slotSize / 2 + 1; // all in the class of slotSize
            ConcurrentHashMap<Long, Long> live = new ConcurrentHashMap<>();
            Race race = new Race("hotspot, " + threads + " threads on " + slotSize + "-byte slots", threads, newSeed());
            race.run((thread, random) -> {
                final int slots = 16; // at most 256 live of the slab's 1024 (64 B) or 16384 (4 B)
                long[] address = new long[slots];
                long[] size = new long[slots];
                long[] key = new long[slots];
                long blockId = 0;
                for (int op = 0; op < OPS_PER_CASE / threads; op++) {
                    int i = random.nextInt(slots);
                    if (address[i] == 0) {
                        long byteSize = minSize + random.nextInt(slotSize - minSize + 1);
                        long p = smalloc.alloc(byteSize, 1);
                        if (p == 0 || smalloc.usableSize(p) != slotSize) {
                            throw new AssertionError("allocation of " + byteSize + " bytes left the slab, which has room: 0x"
                                    + Long.toHexString(p) + "; " + race.context());
                        }
                        long k = key(thread, ++blockId);
                        Long holder = live.putIfAbsent(p, k);
                        if (holder != null) {
                            throw new AssertionError("0x" + Long.toHexString(p) + " handed out to thread " + thread
                                    + " while block 0x" + Long.toHexString(holder) + " holds it; " + race.context());
                        }
                        BlockPattern.fill(BlockPattern.raw(p, byteSize), k);
                        address[i] = p;
                        size[i] = byteSize;
                        key[i] = k;
                    } else {
                        free(smalloc, live, address[i], size[i], key[i], race);
                        address[i] = 0;
                    }
                }
                for (int i = 0; i < slots; i++) {
                    if (address[i] != 0) {
                        free(smalloc, live, address[i], size[i], key[i], race);
                    }
                }
            });
            assertTrue(live.isEmpty());
            assertEquals(0, smalloc.stats().slotsInUse(), race.context()); // cached slots count as free
            smalloc.verify();
            if (threadCaches) {
                return; // the ended threads' caches keep some slots from this thread: the count below needs lists alone
            }

            // the list came through sound: every slot of the slab is handed out exactly once, then overflow
            int slotCount = smalloc.slabHeap().layout().slotsPerSlab(Long.numberOfTrailingZeros(slotSize));
            Set<Long> all = new HashSet<>();
            for (int i = 0; i < slotCount; i++) {
                long p = smalloc.alloc(slotSize, 1);
                assertEquals(slotSize, smalloc.usableSize(p), "allocation " + i + " of " + slotCount + "; " + race.context());
                assertTrue(all.add(p), "0x" + Long.toHexString(p) + " handed out twice; " + race.context());
            }
            assertEquals(2L * slotSize, smalloc.usableSize(smalloc.alloc(slotSize, 1)), "the slab is full now");
        }
    }

    private static void free(Smalloc smalloc, ConcurrentHashMap<Long, Long> live, long address, long byteSize, long key,
                             Race race) {
        BlockPattern.check(BlockPattern.raw(address, byteSize), key, race.context());
        // forget the block before freeing it: right after the free another thread may get it
        if (!live.remove(address, key)) {
            throw new AssertionError("0x" + Long.toHexString(address) + " was taken from its holder; " + race.context());
        }
        smalloc.dealloc(address, byteSize, 1);
    }

    // ------------------------------------------------------------ close racing with allocations

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {2, 4, 16})
    void closeRacingWithAllocationsEndsEveryThreadWithIllegalStateException(int threads) throws InterruptedException {
        final int rounds = Integer.getInteger("smalloc4j.closeRounds", 4);
        for (int round = 0; round < rounds; round++) {
            long seed = newSeed();
            String context = "close race, " + threads + " threads, round " + round + ", seed " + seed;
            Smalloc smalloc = Smalloc.builder().slabsPerClass(4).slabBytes(1 << 20).largestSlot(1 << 16)
                    .releaseThreshold(Native.PAGE_SIZE).name("closing").build(); // frees of a page or more madvise
            CountDownLatch running = new CountDownLatch(threads);
            Throwable[] endings = new Throwable[threads];
            Thread[] workers = new Thread[threads];
            SplittableRandom master = new SplittableRandom(seed);
            for (int t = 0; t < threads; t++) {
                final int thread = t;
                final SplittableRandom random = master.split();
                workers[t] = new Thread(() -> {
                    try {
                        churnUntilItFails(smalloc, thread, random, running);
                    } catch (Throwable e) {
                        endings[thread] = e;
                    } finally {
                        running.countDown(); // harmless twice: the latch only times the close
                    }
                }, "close-race-" + t);
                workers[t].setDaemon(true);
                workers[t].start();
            }
            assertTrue(running.await(60, TimeUnit.SECONDS), "workers did not start; " + context);
            smalloc.close();
            for (Thread worker : workers) {
                worker.join(TimeUnit.SECONDS.toMillis(60));
                assertFalse(worker.isAlive(), worker.getName() + " did not end after close; " + context);
            }
            List<String> wrong = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                if (!(endings[t] instanceof IllegalStateException)) {
                    wrong.add("thread " + t + " ended with " + endings[t]);
                }
            }
            if (!wrong.isEmpty()) {
                AssertionError failure = new AssertionError("every thread must end with IllegalStateException: " + wrong
                        + "; " + context);
                for (Throwable ending : endings) {
                    if (ending != null && !(ending instanceof IllegalStateException)) {
                        failure.addSuppressed(ending);
                    }
                }
                throw failure;
            }
            assertFalse(smalloc.contains(smalloc.slabHeap().layout().base()), "a closed heap contains nothing");
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> smalloc.alloc(8, 1));
            assertTrue(closed.getMessage().contains("closing") && closed.getMessage().contains("closed"), closed.getMessage());
            smalloc.close(); // the second time does nothing
        }
    }

    /** Allocates, fills, checks, reallocates and frees through the heap's own segments until a call throws. */
    private static void churnUntilItFails(Smalloc smalloc, int thread, SplittableRandom random, CountDownLatch running) {
        final int slots = 8;
        long[] address = new long[slots];
        long[] size = new long[slots];
        long[] key = new long[slots];
        long blockId = 0;
        for (long op = 0; ; op++) {
            if (op == 500) {
                running.countDown();
            }
            int i = random.nextInt(slots);
            if (address[i] == 0) {
                long byteSize = random.nextInt(3) == 0 ? Native.PAGE_SIZE + random.nextLong(Native.PAGE_SIZE)
                        : 1 + random.nextLong(512);
                long p = smalloc.alloc(byteSize, 8);
                if (p == 0) {
                    throw new AssertionError("could not allocate " + byteSize + " bytes");
                }
                key[i] = key(thread, ++blockId);
                // the heap's own segments: after close they throw instead of touching unmapped memory
                BlockPattern.fill(smalloc.asSegment(p, byteSize), key[i]);
                address[i] = p;
                size[i] = byteSize;
            } else {
                BlockPattern.check(smalloc.asSegment(address[i], size[i]), key[i], "thread " + thread);
                if (random.nextInt(4) == 0) {
                    long newSize = 1 + random.nextLong(2 * Native.PAGE_SIZE);
                    long p = smalloc.realloc(address[i], size[i], 8, newSize);
                    if (p == 0) {
                        throw new AssertionError("could not reallocate to " + newSize + " bytes");
                    }
                    MemorySegment block = smalloc.asSegment(p, newSize);
                    if (BlockPattern.firstMismatch(block, key[i], 0, Math.min(size[i], newSize)) >= 0) {
                        throw new AssertionError("realloc lost content of 0x" + Long.toHexString(address[i]));
                    }
                    if (newSize > size[i]) {
                        BlockPattern.fill(block, key[i], size[i], newSize);
                    }
                    address[i] = p;
                    size[i] = newSize;
                } else {
                    smalloc.dealloc(address[i], size[i], 8);
                    address[i] = 0;
                }
            }
        }
    }

    // ------------------------------------------------------------ running threads together

    /**
     * Threads that start together (a barrier) and run one body each with a random of their own split
     * from the seed; the first failure of any thread fails the test, naming the seed.
     */
    private static final class Race {

        @FunctionalInterface
        interface Body {
            void run(int thread, SplittableRandom random) throws Exception;
        }

        private final String name;
        private final int threads;
        private final long seed;
        private final AtomicBoolean failed = new AtomicBoolean();
        private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

        Race(String name, int threads, long seed) {
            this.name = name;
            this.threads = threads;
            this.seed = seed;
        }

        /** For failure messages: what ran, and the seed to rerun it with. */
        String context() {
            return name + ", seed " + seed + " (rerun with -Dsmalloc4j.seed=" + seed + ")";
        }

        boolean failed() {
            return failed.get();
        }

        /** Puts into a bounded queue, giving up when another thread has failed (nobody may be taking). */
        <T> void put(BlockingQueue<T> queue, T item) throws InterruptedException {
            while (!queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                if (failed()) {
                    throw new IllegalStateException("gave up handing over: another thread failed");
                }
            }
        }

        void run(Body body) throws InterruptedException {
            SplittableRandom master = new SplittableRandom(seed);
            CyclicBarrier start = new CyclicBarrier(threads);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                final int thread = t;
                final SplittableRandom random = master.split();
                workers[t] = new Thread(() -> {
                    try {
                        start.await(); // so that the threads really overlap
                        body.run(thread, random);
                    } catch (Throwable e) {
                        failures.add(e);
                        failed.set(true);
                    }
                }, "race-" + t);
                workers[t].setDaemon(true);
                workers[t].start();
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            for (Thread worker : workers) {
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (worker.isAlive()) {
                    failures.add(new AssertionError(worker.getName() + " did not finish"));
                    failed.set(true);
                }
            }
            if (!failures.isEmpty()) {
                AssertionError failure = new AssertionError(context() + ": " + failures.size() + " failure(s), first: "
                        + failures.peek(), failures.peek());
                failures.stream().skip(1).limit(8).forEach(failure::addSuppressed);
                throw failure;
            }
        }
    }
}
