package org.smalloc4j.tools;

import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.smalloc4j.Allocators;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.TrackingAllocator;
import org.smalloc4j.tools.bench.ResidentSet;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code smalloc4j soak}: many threads hammer one allocator with random alloc, allocZeroed, free and
 * realloc for a long time, every block filled with a pattern of its own and checked in full before it
 * is freed or reallocated, a share of the frees made by another thread through a shared exchange.
 * A sampler watches memory and fails the run if it outgrows the live bytes: on a Smalloc heap the
 * heap's own resident bytes ({@code mincore} over its touched slots), on other allocators the
 * process's RSS (which includes the Java heap, which grows with the workers' garbage).
 *
 * <p>Exit code 0 only if there was no corruption, no failed call and no RSS breach (and, on Smalloc,
 * the heap's {@link Smalloc#verify()} passed at the end); 1 otherwise.
 */
@Command(name = "soak",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        description = "Long multi-threaded random alloc/free/realloc with every block's content checked.")
public final class SoakCommand implements Callable<Integer> {

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Operations between two looks at the stop flag and the clock. */
    private static final int CHECK_EVERY = 256;
    /** Largest "small" block: most requests are below it. */
    private static final int SMALL_MAX = 1024;
    /** Largest "large" block, asked for once in {@link #LARGE_ONE_IN} requests. */
    private static final int LARGE_MAX = 4 << 20;
    private static final int LARGE_ONE_IN = 2000;
    /** At most this many corruptions are described; all are counted. */
    private static final int DESCRIBED = 10;

    @Spec
    private CommandSpec spec;

    @Option(names = {"-a", "--allocator"}, paramLabel = "NAME", defaultValue = "smalloc",
            description = "Allocator: smalloc, system, jemalloc, mimalloc, tracking:<name> (default: ${DEFAULT-VALUE}).")
    String allocatorName;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "16",
            description = "Threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "100000000",
            description = "Operations in all, shared among the threads (default: ${DEFAULT-VALUE}).")
    long ops;

    @Option(names = {"-d", "--duration"}, paramLabel = "TIME", converter = DurationConverter.class,
            description = "Run for this long instead of a number of --ops, e.g. 30s, 10m.")
    Duration duration;

    @Option(names = "--slots", paramLabel = "N", defaultValue = "512",
            description = "Live blocks each thread keeps at most (default: ${DEFAULT-VALUE}).")
    int slots;

    @Option(names = "--max-rss", paramLabel = "BYTES",
            description = "Limit of the whole process RSS in bytes, instead of the default limit: the measured memory"
                    + " (a Smalloc heap's resident bytes, else the RSS) at most its start + --rss-factor x peak live bytes"
                    + " + --rss-slack.")
    Long maxRss;

    @Option(names = "--rss-factor", paramLabel = "X",
            description = "Allowed growth of the measured memory per peak live byte (default: 2 on a Smalloc heap,"
                    + " 4 for the RSS of other allocators).")
    Double rssFactor;

    @Option(names = "--rss-slack", paramLabel = "BYTES",
            description = "Allowed growth of the measured memory besides the live bytes: thread caches and the pages"
                    + " that classes below the page-release size keep for reuse on a Smalloc heap; the Java heap too"
                    + " for the RSS of other allocators (default: 64 MiB on a Smalloc heap, 256 MiB otherwise).")
    Long rssSlack;

    @Option(names = "--progress", paramLabel = "TIME", converter = DurationConverter.class, defaultValue = "1s",
            description = "Time between progress lines and RSS samples (default: ${DEFAULT-VALUE}).")
    Duration progress;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    /** For tests: soak this allocator instead of the one named by {@link #allocatorName}. */
    NativeAllocator allocatorOverride;

    /** A live block: its pattern depends only on {@code patternSeed} and the offset. */
    private record Block(long address, long byteSize, long byteAlignment, long patternSeed) {
    }

    /** What every worker shares. */
    private final class Shared {
        final NativeAllocator allocator;
        final AtomicReferenceArray<Block> exchange;
        final AtomicLong opsLeft;
        final long deadline;
        final AtomicLong corruptions = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        final List<String> problems = new ArrayList<>();
        volatile boolean stop;

        Shared(NativeAllocator allocator) {
            this.allocator = allocator;
            this.exchange = new AtomicReferenceArray<>(Math.max(16, threads * 16));
            this.opsLeft = new AtomicLong(duration == null ? ops : Long.MAX_VALUE);
            this.deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
        }

        void problem(AtomicLong counter, String what) {
            long count = counter.incrementAndGet();
            synchronized (problems) {
                if (problems.size() < DESCRIBED) {
                    problems.add(what);
                }
            }
            if (counter == corruptions && count == 1) {
                stop = true; // a corrupt heap is not worth more load: stop and report
            }
        }
    }

    /** One thread's loop, its live blocks, and counters the sampler reads. */
    private static final class Worker implements Runnable {
        private final Shared shared;
        private final int index;
        private final Block[] live;
        private final SplittableRandom random;
        private long nextBlockId;
        volatile long opsDone;
        volatile long liveBytes; // this thread's allocations minus its frees: the sum over workers is exact

        Worker(Shared shared, int index, int slots, long seed) {
            this.shared = shared;
            this.index = index;
            this.live = new Block[slots];
            this.random = new SplittableRandom(seed * 0x9E37_79B9L + index);
        }

        @Override
        public void run() {
            try {
                long done = 0;
                while (!shared.stop) {
                    long granted = grant();
                    if (granted == 0) {
                        break;
                    }
                    for (long k = 0; k < granted && !shared.stop; k++) {
                        step();
                        done++;
                    }
                    opsDone = done;
                }
                for (int slot = 0; slot < live.length; slot++) {
                    if (live[slot] != null) {
                        free(live[slot]);
                        live[slot] = null;
                    }
                }
            } catch (RuntimeException | Error e) {
                shared.problem(shared.failures, "thread " + index + " threw " + e);
                shared.stop = true;
            }
        }

        /** Takes up to {@link #CHECK_EVERY} operations from the shared budget; 0 when done. */
        private long grant() {
            if (System.nanoTime() >= shared.deadline) {
                return 0;
            }
            long left = shared.opsLeft.getAndAdd(-CHECK_EVERY);
            return Math.max(0, Math.min(CHECK_EVERY, left));
        }

        private void step() {
            int slot = random.nextInt(live.length);
            Block block = live[slot];
            if (block == null) {
                live[slot] = allocate(random.nextInt(5) == 0);
                return;
            }
            int choice = random.nextInt(20);
            if (choice < 8) {
                live[slot] = reallocate(block);
            } else if (choice < 11) {
                live[slot] = null;
                handOff(block);
            } else {
                live[slot] = null;
                free(block);
            }
        }

        private long randomSize() {
            if (random.nextInt(LARGE_ONE_IN) == 0) {
                return SMALL_MAX + random.nextInt(LARGE_MAX - SMALL_MAX);
            }
            return random.nextInt(SMALL_MAX >>> random.nextInt(8)) + (long) random.nextInt(2); // skewed to small
        }

        private long randomAlignment() {
            int roll = random.nextInt(64);
            return roll == 0 ? 1L << (4 + random.nextInt(9)) : roll < 32 ? 8 : 16; // rarely 16..4096
        }

        private Block allocate(boolean zeroed) {
            long byteSize = randomSize();
            long byteAlignment = randomAlignment();
            long address = zeroed ? shared.allocator.allocZeroed(byteSize, byteAlignment)
                    : shared.allocator.alloc(byteSize, byteAlignment);
            if (address == 0) {
                shared.problem(shared.failures, "thread " + index + ": " + (zeroed ? "allocZeroed(" : "alloc(") + byteSize
                        + ", " + byteAlignment + ") returned 0");
                return null;
            }
            Block block = new Block(address, byteSize, byteAlignment, ((long) index << 40) | nextBlockId++);
            if (address % byteAlignment != 0) {
                shared.problem(shared.corruptions, describe(block, "misaligned"));
            }
            if (zeroed) {
                checkZero(block);
            }
            fill(block, 0);
            liveBytes += byteSize;
            return block;
        }

        private Block reallocate(Block block) {
            check(block, "before realloc");
            long newSize = randomSize();
            long address = shared.allocator.realloc(block.address(), block.byteSize(), block.byteAlignment(), newSize);
            if (address == 0) {
                shared.problem(shared.failures, "thread " + index + ": realloc to " + newSize + " returned 0");
                return block; // the old block stays allocated and intact
            }
            Block moved = new Block(address, newSize, block.byteAlignment(), block.patternSeed());
            if (address % block.byteAlignment() != 0) {
                shared.problem(shared.corruptions, describe(moved, "misaligned after realloc"));
            }
            check(new Block(address, Math.min(newSize, block.byteSize()), block.byteAlignment(), block.patternSeed()),
                    "after realloc from " + block.byteSize());
            fill(moved, Math.min(newSize, block.byteSize())); // the prefix already holds the pattern
            liveBytes += newSize - block.byteSize();
            return moved;
        }

        /** Puts the block in the exchange; frees whichever block another thread left there. */
        private void handOff(Block block) {
            Block other = shared.exchange.getAndSet(random.nextInt(shared.exchange.length()), block);
            if (other != null) {
                free(other);
            }
        }

        private void free(Block block) {
            check(block, "before free");
            shared.allocator.dealloc(block.address(), block.byteSize(), block.byteAlignment());
            liveBytes -= block.byteSize();
        }

        private void fill(Block block, long from) {
            MemorySegment segment = MemorySegment.ofAddress(block.address()).reinterpret(block.byteSize());
            long size = block.byteSize();
            long offset = from;
            for (; offset < size && (offset & 7) != 0; offset++) {
                segment.set(ValueLayout.JAVA_BYTE, offset, byteAt(block.patternSeed(), offset));
            }
            for (; offset + 8 <= size; offset += 8) {
                segment.set(WORD, offset, word(block.patternSeed(), offset >>> 3));
            }
            for (; offset < size; offset++) {
                segment.set(ValueLayout.JAVA_BYTE, offset, byteAt(block.patternSeed(), offset));
            }
        }

        private void check(Block block, String when) {
            MemorySegment segment = MemorySegment.ofAddress(block.address()).reinterpret(block.byteSize());
            long size = block.byteSize();
            long offset = 0;
            for (; offset + 8 <= size; offset += 8) {
                if (segment.get(WORD, offset) != word(block.patternSeed(), offset >>> 3)) {
                    break;
                }
            }
            for (; offset < size; offset++) {
                if (segment.get(ValueLayout.JAVA_BYTE, offset) != byteAt(block.patternSeed(), offset)) {
                    shared.problem(shared.corruptions, describe(block, "content changed at offset " + offset + " " + when));
                    return;
                }
            }
        }

        private void checkZero(Block block) {
            MemorySegment segment = MemorySegment.ofAddress(block.address()).reinterpret(block.byteSize());
            for (long offset = 0; offset < block.byteSize(); offset++) {
                if (segment.get(ValueLayout.JAVA_BYTE, offset) != 0) {
                    shared.problem(shared.corruptions, describe(block, "allocZeroed block not zero at offset " + offset));
                    return;
                }
            }
        }

        private String describe(Block block, String what) {
            return String.format(Locale.ROOT, "thread %d: block 0x%x (%d bytes, alignment %d, thread %d id %d): %s", index,
                    block.address(), block.byteSize(), block.byteAlignment(), block.patternSeed() >>> 40,
                    block.patternSeed() & ((1L << 40) - 1), what);
        }
    }

    /** The 8 bytes at word {@code index} of a block with this pattern seed (splitmix64). */
    static long word(long patternSeed, long index) {
        long z = patternSeed * 0xD6E8_FEB8_6659_FD93L + (index + 1) * 0x9E37_79B9_7F4A_7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    private static byte byteAt(long patternSeed, long offset) {
        return (byte) (word(patternSeed, offset >>> 3) >>> ((offset & 7) * 8));
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (threads < 1 || slots < 1 || ops < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--threads and --slots must be at least 1 and --ops not negative (threads " + threads + ", slots "
                            + slots + ", ops " + ops + ")");
        }
        NativeAllocator allocator = allocatorOverride != null ? allocatorOverride : Allocators.named(allocatorName);
        Shared shared = new Shared(allocator);
        Worker[] workers = new Worker[threads];
        Thread[] running = new Thread[threads];
        long rssAtStart = ResidentSet.bytes();
        Smalloc heap = smallocOf(allocator);
        long measuredAtStart = heap != null ? heap.stats().bytesResident() : rssAtStart;
        String measuredName = heap != null ? "heap resident" : "RSS";
        out.printf(Locale.ROOT, "soak: %s, %d threads, %s, %d slots per thread, seed %d, RSS at start %s%n",
                allocator.name(), threads, duration == null ? ops + " ops" : DurationConverter.format(duration), slots, seed,
                mib(rssAtStart));
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            workers[t] = new Worker(shared, t, slots, seed);
            running[t] = Thread.ofPlatform().name("soak-" + t).start(workers[t]);
        }
        long peakRss = rssAtStart;
        long peakMeasured = measuredAtStart;
        long peakLive = 0;
        long rssBreaches = 0;
        long limit = 0;
        while (anyAlive(running)) {
            waitForAll(running, progress);
            long live = 0;
            long done = 0;
            for (Worker worker : workers) {
                live += worker.liveBytes;
                done += worker.opsDone;
            }
            peakLive = Math.max(peakLive, live);
            long rss = ResidentSet.bytes();
            long measured = maxRss != null || heap == null ? rss : heap.stats().bytesResident();
            peakRss = Math.max(peakRss, rss);
            peakMeasured = Math.max(peakMeasured, measured);
            limit = rssLimit(measuredAtStart, peakLive, heap != null);
            boolean breach = measured >= 0 && measured > limit;
            if (breach) {
                rssBreaches++;
                shared.problem(shared.failures, (maxRss != null ? "RSS " : measuredName + " ") + mib(measured)
                        + " above its limit " + mib(limit) + " (live " + mib(live) + ")");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "  %7.1fs  %,14d ops  %6.2f Mops/s  live %s  RSS %s%s  limit %s%s%n", seconds, done,
                    done / seconds / 1e6, mib(live), mib(rss), heap == null ? "" : "  heap resident " + mib(measured),
                    mib(limit), breach ? "  BREACH" : "");
            out.flush();
        }
        long elapsed = System.nanoTime() - start;
        // the threads are done: drain the exchange (checking every block) from this thread
        Worker drainer = new Worker(shared, threads, 1, seed);
        for (int k = 0; k < shared.exchange.length(); k++) {
            Block block = shared.exchange.getAndSet(k, null);
            if (block != null) {
                drainer.free(block);
            }
        }
        long done = 0;
        long liveAtEnd = drainer.liveBytes;
        for (Worker worker : workers) {
            done += worker.opsDone;
            liveAtEnd += worker.liveBytes;
        }
        String verified = "not applicable (" + allocator.name() + " is not Smalloc)";
        if (allocator instanceof Smalloc smalloc) {
            try {
                smalloc.verify();
                verified = "passed";
            } catch (IllegalStateException e) {
                verified = "FAILED: " + e.getMessage();
                shared.failures.incrementAndGet();
            }
        }
        long corruptions = shared.corruptions.get();
        long failures = shared.failures.get();
        out.printf(Locale.ROOT, "summary: %s, %d threads%n", allocator.name(), threads);
        out.printf(Locale.ROOT, "  ops            %,d in %.2f s (%.1f ns/op over all threads, %.2f Mops/s)%n", done,
                elapsed / 1e9, done == 0 ? 0.0 : (double) elapsed * threads / done, done / (elapsed / 1e9) / 1e6);
        out.printf(Locale.ROOT, "  corruptions    %d%n", corruptions);
        out.printf(Locale.ROOT, "  failures       %d (RSS breaches %d)%n", failures, rssBreaches);
        out.printf(Locale.ROOT, "  peak live      %s (live at end %d bytes)%n", mib(peakLive), liveAtEnd);
        out.printf(Locale.ROOT, "  peak RSS       %s (start %s)%n", mib(peakRss), mib(rssAtStart));
        out.printf(Locale.ROOT, "  peak %-9s %s (start %s, last limit %s)%n", measuredName, mib(peakMeasured),
                mib(measuredAtStart), mib(limit));
        out.printf(Locale.ROOT, "  verify()       %s%n", verified);
        synchronized (shared.problems) {
            for (String problem : shared.problems) {
                out.println("  problem: " + problem);
            }
        }
        boolean ok = corruptions == 0 && failures == 0 && liveAtEnd == 0;
        out.println(ok ? "soak: PASSED" : "soak: FAILED");
        out.flush();
        return ok ? 0 : 1;
    }

    private long rssLimit(long measuredAtStart, long peakLive, boolean onSmalloc) {
        if (maxRss != null) {
            return maxRss;
        }
        double factor = rssFactor != null ? rssFactor : onSmalloc ? 2 : 4;
        long slack = rssSlack != null ? rssSlack : onSmalloc ? 64L << 20 : 256L << 20;
        return Math.max(0, measuredAtStart) + (long) (factor * peakLive) + slack;
    }

    /** The Smalloc heap that {@code allocator} is or wraps, else null. */
    private static Smalloc smallocOf(NativeAllocator allocator) {
        NativeAllocator inner = allocator instanceof TrackingAllocator tracking ? tracking.inner() : allocator;
        return inner instanceof Smalloc smalloc ? smalloc : null;
    }

    /** Returns when every thread has ended or {@code interval} has passed. */
    private static void waitForAll(Thread[] threads, Duration interval) throws InterruptedException {
        long deadline = System.nanoTime() + interval.toNanos();
        for (Thread thread : threads) {
            long leftMillis = (deadline - System.nanoTime()) / 1_000_000;
            if (leftMillis <= 0 || !thread.join(Duration.ofMillis(leftMillis))) {
                return;
            }
        }
    }

    private static boolean anyAlive(Thread[] threads) {
        for (Thread thread : threads) {
            if (thread.isAlive()) {
                return true;
            }
        }
        return false;
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
