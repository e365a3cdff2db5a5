package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random sequences of alloc, allocZeroed, free and realloc checked against a model of the live
 * blocks: every live block aligned, disjoint from the others and keeping its content; allocZeroed
 * blocks zero; every freed block reusable at once (an allocation of its size and alignment right after
 * the free succeeds, disjoint from the live blocks, and on Smalloc returns the same address: LIFO
 * reuse); after all is freed, every size freed can be allocated again; a TrackingAllocator's counters
 * (calls, bytes, live, peak, histogram) equal to the model's after every step. A failing sequence is
 * shrunk (its shortest failing prefix, then operations removed while it still fails) and the message
 * gives the seed and the shrunk sequence.
 */
class ModelBasedTest {

    /** Sequences per allocator, and operations per sequence: a few seconds in all. */
    private static final int SEQUENCES = 60;
    private static final int LENGTH = 300;
    private static final long BASE_SEED = Long.getLong("smalloc4j.model.seed", 20_250_601L);

    enum Kind { ALLOC, ALLOC_ZEROED, FREE, REALLOC }

    /** One step; {@code pick} chooses a live block (modulo their number) for FREE and REALLOC. */
    record Op(Kind kind, long byteSize, long byteAlignment, int pick) {
        @Override
        public String toString() {
            return switch (kind) {
                case ALLOC, ALLOC_ZEROED -> kind + "(" + byteSize + ", align " + byteAlignment + ")";
                case FREE -> "FREE(#" + pick + ")";
                case REALLOC -> "REALLOC(#" + pick + " -> " + byteSize + ")";
            };
        }
    }

    /** A live block of the model; its content is the pattern of {@code patternSeed}. */
    private record Block(long address, long byteSize, long byteAlignment, long patternSeed) {
    }

    static List<Op> generate(long seed, int length) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Op> ops = new ArrayList<>(length);
        for (int k = 0; k < length; k++) {
            int roll = random.nextInt(10);
            Kind kind = roll < 3 ? Kind.ALLOC : roll < 4 ? Kind.ALLOC_ZEROED : roll < 7 ? Kind.FREE : Kind.REALLOC;
            long byteSize = random.nextInt(50) == 0 ? random.nextInt(1 << 16) : random.nextInt(2048 >>> random.nextInt(8));
            long byteAlignment = random.nextInt(8) == 0 ? 1L << random.nextInt(13) : 1L << random.nextInt(5);
            ops.add(new Op(kind, byteSize, byteAlignment, random.nextInt(1 << 16)));
        }
        return ops;
    }

    /**
     * Runs {@code ops} on a fresh allocator from {@code factory}; the index of the failing operation
     * (ops.size() for a failure in the final checks) with what went wrong, or null if all held.
     */
    static Failure run(Supplier<NativeAllocator> factory, List<Op> ops) {
        NativeAllocator allocator = factory.get();
        List<Block> live = new ArrayList<>();
        List<Block> freed = new ArrayList<>();
        Counts model = new Counts();
        int step = 0;
        try {
            for (; step < ops.size(); step++) {
                Op op = ops.get(step);
                switch (op.kind()) {
                    case ALLOC, ALLOC_ZEROED -> {
                        boolean zeroed = op.kind() == Kind.ALLOC_ZEROED;
                        long address = zeroed ? allocator.allocZeroed(op.byteSize(), op.byteAlignment())
                                : allocator.alloc(op.byteSize(), op.byteAlignment());
                        if (address == 0) {
                            return new Failure(step, "returned 0 for a small request");
                        }
                        model.allocated(op.byteSize());
                        Block block = new Block(address, op.byteSize(), op.byteAlignment(), step);
                        String wrong = placement(block, live);
                        if (wrong == null && zeroed) {
                            wrong = zeroes(block);
                        }
                        if (wrong != null) {
                            return new Failure(step, wrong);
                        }
                        Patterns.fill(address, op.byteSize(), step);
                        live.add(block);
                    }
                    case FREE -> {
                        if (live.isEmpty()) {
                            continue;
                        }
                        Block block = live.remove(op.pick() % live.size());
                        Smalloc heap = smallocUnder(allocator);
                        long slotSize = heap == null ? 0 : heap.usableSize(block.address());
                        allocator.dealloc(block.address(), block.byteSize(), block.byteAlignment());
                        model.freed(block.byteSize());
                        freed.add(block);
                        String wrong = reuse(allocator, block, slotSize, live, model);
                        if (wrong != null) {
                            return new Failure(step, wrong);
                        }
                    }
                    case REALLOC -> {
                        if (live.isEmpty()) {
                            continue;
                        }
                        int index = op.pick() % live.size();
                        Block block = live.remove(index);
                        long address = allocator.realloc(block.address(), block.byteSize(), block.byteAlignment(),
                                op.byteSize());
                        if (address == 0) {
                            return new Failure(step, "realloc returned 0 for a small request");
                        }
                        model.reallocated(block.byteSize(), op.byteSize());
                        Block moved = new Block(address, op.byteSize(), block.byteAlignment(), block.patternSeed());
                        String wrong = placement(moved, live);
                        if (wrong == null) {
                            wrong = content(new Block(address, Math.min(block.byteSize(), op.byteSize()),
                                    block.byteAlignment(), block.patternSeed()), "the kept prefix");
                        }
                        if (wrong != null) {
                            return new Failure(step, wrong);
                        }
                        Patterns.fill(address, op.byteSize(), block.patternSeed()); // same seed: the prefix stays
                        live.add(index, moved);
                    }
                }
                for (Block block : live) {
                    String wrong = content(block, "a live block");
                    if (wrong != null) {
                        return new Failure(step, wrong);
                    }
                }
                if (allocator instanceof TrackingAllocator tracking) {
                    String counted = Counts.of(tracking);
                    if (!counted.equals(model.toString())) {
                        return new Failure(step, "tracking counters " + counted + ", model " + model);
                    }
                }
            }
            // freed blocks are reusable: with everything freed, each freed size and alignment allocates again
            for (Block block : live) {
                allocator.dealloc(block.address(), block.byteSize(), block.byteAlignment());
            }
            live.clear();
            for (Block block : freed) {
                long again = allocator.alloc(block.byteSize(), block.byteAlignment());
                if (again == 0 || again % block.byteAlignment() != 0) {
                    return new Failure(step, "a freed " + block.byteSize() + "-byte block cannot be allocated again");
                }
                allocator.dealloc(again, block.byteSize(), block.byteAlignment());
            }
            if (allocator instanceof Smalloc smalloc) {
                smalloc.verify();
            }
            return null;
        } catch (RuntimeException | AssertionError e) {
            return new Failure(step, e.toString());
        } finally {
            for (Block block : live) {
                try {
                    allocator.dealloc(block.address(), block.byteSize(), block.byteAlignment());
                } catch (RuntimeException e) {
                    // the run already failed; the allocator may be broken
                }
            }
            allocator.close();
        }
    }

    record Failure(int step, String what) {
    }

    /**
     * What a TrackingAllocator should have counted: every call the sequence made, its own reuse checks
     * included. Rendered as text so that a difference shows every figure side by side.
     */
    private static final class Counts {
        private long allocations;
        private long frees;
        private long reallocs;
        private long allocatedBytes;
        private long freedBytes;
        private long peak;
        private final long[] histogram = new long[TrackingAllocator.SIZE_CLASSES];

        void allocated(long byteSize) {
            allocations++;
            handedOut(byteSize);
        }

        void freed(long byteSize) {
            frees++;
            freedBytes += byteSize;
        }

        void reallocated(long oldSize, long newSize) {
            reallocs++;
            freedBytes += oldSize;
            handedOut(newSize);
        }

        private void handedOut(long byteSize) {
            allocatedBytes += byteSize;
            histogram[TrackingAllocator.sizeClass(byteSize)]++;
            peak = Math.max(peak, allocatedBytes - freedBytes);
        }

        @Override
        public String toString() {
            return format(allocations, frees, reallocs, allocatedBytes, freedBytes, allocatedBytes - freedBytes, peak,
                    histogram);
        }

        static String of(TrackingAllocator tracking) {
            return format(tracking.allocationCount(), tracking.freeCount(), tracking.reallocCount(),
                    tracking.allocatedBytes(), tracking.freedBytes(), tracking.liveBytes(), tracking.peakBytes(),
                    tracking.histogram());
        }

        private static String format(long allocations, long frees, long reallocs, long allocatedBytes, long freedBytes,
                                     long live, long peak, long[] histogram) {
            return "allocations " + allocations + " frees " + frees + " reallocs " + reallocs + " allocated "
                    + allocatedBytes + " B freed " + freedBytes + " B live " + live + " B peak " + peak
                    + " B histogram " + java.util.Arrays.toString(histogram);
        }
    }

    /** The Smalloc heap that {@code allocator} is or directly wraps, else null. */
    private static Smalloc smallocUnder(NativeAllocator allocator) {
        NativeAllocator inner = allocator instanceof TrackingAllocator tracking ? tracking.inner() : allocator;
        return inner instanceof Smalloc smalloc ? smalloc : null;
    }

    /**
     * Right after {@code block} was freed: an allocation of its size and alignment succeeds and lies apart
     * from the live blocks; on a Smalloc heap it is the same address, as LIFO reuse promises, when the
     * freed slot ({@code slotSize} bytes) is of the class this request picks (a realloc'd grower may sit
     * in a larger one); then it is freed again.
     */
    private static String reuse(NativeAllocator allocator, Block block, long slotSize, List<Block> live, Counts model) {
        long again = allocator.alloc(block.byteSize(), block.byteAlignment());
        if (again == 0) {
            return "a just-freed " + block.byteSize() + "-byte block cannot be allocated again";
        }
        model.allocated(block.byteSize());
        String wrong = placement(new Block(again, block.byteSize(), block.byteAlignment(), -1), live);
        long classSlot = Math.max(4, Long.highestOneBit(Math.max(1, Math.max(block.byteSize(), block.byteAlignment()) - 1)) << 1);
        if (wrong == null && slotSize == classSlot && again != block.address()) {
            wrong = String.format("freed 0x%x, but the next allocation of its class returned 0x%x (not LIFO)",
                    block.address(), again);
        }
        allocator.dealloc(again, block.byteSize(), block.byteAlignment());
        model.freed(block.byteSize());
        return wrong;
    }

    /** Aligned, and not overlapping any other live block (zero-size blocks only need alignment). */
    private static String placement(Block block, List<Block> live) {
        if (block.address() % block.byteAlignment() != 0) {
            return String.format("0x%x is not aligned to %d", block.address(), block.byteAlignment());
        }
        for (Block other : live) {
            if (block.byteSize() > 0 && other.byteSize() > 0 && block.address() < other.address() + other.byteSize()
                    && other.address() < block.address() + block.byteSize()) {
                return String.format("block 0x%x (%d bytes) overlaps live block 0x%x (%d bytes)", block.address(),
                        block.byteSize(), other.address(), other.byteSize());
            }
        }
        return null;
    }

    private static String zeroes(Block block) {
        MemorySegment segment = Patterns.at(block.address(), block.byteSize());
        for (long offset = 0; offset < block.byteSize(); offset++) {
            if (segment.get(ValueLayout.JAVA_BYTE, offset) != 0) {
                return String.format("allocZeroed block 0x%x has byte %d != 0", block.address(), offset);
            }
        }
        return null;
    }

    private static String content(Block block, String what) {
        try {
            Patterns.check(block.address(), block.byteSize(), block.patternSeed(), what);
            return null;
        } catch (AssertionError e) {
            return e.getMessage();
        }
    }

    /** The shortest failing prefix, then single operations and chunks removed while it still fails. */
    static List<Op> shrink(Supplier<NativeAllocator> factory, List<Op> ops, Failure failure) {
        List<Op> current = new ArrayList<>(ops.subList(0, Math.min(ops.size(), failure.step() + 1)));
        for (int chunk = Math.max(1, current.size() / 2); chunk >= 1; chunk /= 2) {
            boolean removedAny = true;
            while (removedAny) {
                removedAny = false;
                for (int from = 0; from + chunk <= current.size(); ) {
                    List<Op> candidate = new ArrayList<>(current.subList(0, from));
                    candidate.addAll(current.subList(from + chunk, current.size()));
                    Failure again = run(factory, candidate);
                    if (again != null) {
                        current = new ArrayList<>(candidate.subList(0, Math.min(candidate.size(), again.step() + 1)));
                        removedAny = true;
                    } else {
                        from++;
                    }
                }
            }
        }
        return current;
    }

    /** Runs the seeded sequences; on a failure, fails with the seed and the shrunk sequence. */
    private static void check(String name, Supplier<NativeAllocator> factory) {
        for (int k = 0; k < SEQUENCES; k++) {
            long seed = BASE_SEED + k;
            List<Op> ops = generate(seed, LENGTH);
            Failure failure = run(factory, ops);
            if (failure != null) {
                List<Op> shrunk = shrink(factory, ops, failure);
                fail(report(name, seed, failure, shrunk, run(factory, shrunk)));
            }
        }
    }

    private static String report(String name, long seed, Failure failure, List<Op> shrunk, Failure shrunkFailure) {
        return name + ": seed " + seed + " (rerun with -Dsmalloc4j.model.seed=" + seed + ") failed at operation "
                + failure.step() + ": " + failure.what() + "\n  shrunk to " + shrunk.size() + " operations, failing with: "
                + (shrunkFailure == null ? "?" : shrunkFailure.what()) + "\n    "
                + shrunk.stream().map(Op::toString).collect(Collectors.joining("\n    "));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"smalloc-global", "smalloc-checked", "system", "jemalloc", "mimalloc", "bump-over-smalloc",
            "tracking-over-smalloc"})
    void everyAllocatorAgreesWithTheModel(String name) {
        check(name, factory(name));
    }

    private static Supplier<NativeAllocator> factory(String name) {
        return switch (name) {
            case "smalloc-global" -> () -> Smalloc.global();
            case "smalloc-checked" -> () -> Smalloc.builder().name("model-checked").checked(true).build();
            case "system" -> SystemAllocator::new;
            case "jemalloc" -> library(LibraryAllocator.jemalloc(), name);
            case "mimalloc" -> library(LibraryAllocator.mimalloc(), name);
            case "bump-over-smalloc" -> () -> BumpArena.of(Smalloc.global(), 4096);
            case "tracking-over-smalloc" -> () -> TrackingAllocator.of(Smalloc.global());
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static Supplier<NativeAllocator> library(Optional<NativeAllocator> allocator, String name) {
        RequiredLibrary.failInCiIfMissing(name);
        assumeTrue(allocator.isPresent(), () -> name + " cannot load here: " + LibraryAllocator.loadFailure(name).orElse("?"));
        return allocator::get;
    }

    // ---------------------------------------------------------------- the shrinker itself

    /**
     * Hands out blocks from a private buffer, never reusing one, until its {@code brokenAfter}-th
     * allocation; from then on every block starts at the first block's address.
     */
    private static final class OverlapAfter implements NativeAllocator {
        private static final long BUFFER_BYTES = 64L << 20;
        private final SystemAllocator system = new SystemAllocator();
        private final long buffer = system.alloc(BUFFER_BYTES, 4096);
        private final int brokenAfter;
        private long next = buffer;
        private long first;
        private int count;

        OverlapAfter(int brokenAfter) {
            this.brokenAfter = brokenAfter;
        }

        @Override
        public long alloc(long byteSize, long byteAlignment) {
            long address = (next + byteAlignment - 1) & -byteAlignment;
            if (count++ >= brokenAfter && first != 0) {
                return first;
            }
            next = address + byteSize + 1; // +1: zero-size blocks get distinct addresses
            if (first == 0 && byteSize > 0 && byteAlignment <= 16) {
                first = address;
            }
            return address;
        }

        @Override
        public void dealloc(long address, long byteSize, long byteAlignment) {
        }

        @Override
        public String name() {
            return "overlap-after-" + brokenAfter;
        }

        @Override
        public void close() {
            system.dealloc(buffer, BUFFER_BYTES, 4096);
        }
    }

    @Test
    void aBrokenAllocatorIsCaughtAndItsSequenceShrunk() {
        int brokenAfter = 6;
        Supplier<NativeAllocator> factory = () -> new OverlapAfter(brokenAfter);
        long seed = BASE_SEED;
        List<Op> ops = generate(seed, LENGTH);
        Failure failure = run(factory, ops);
        assertNotNull(failure, "the broken allocator passed");
        List<Op> shrunk = shrink(factory, ops, failure);
        Failure shrunkFailure = run(factory, shrunk);
        String report = report("overlap-after-" + brokenAfter, seed, failure, shrunk, shrunkFailure);
        assertNotNull(shrunkFailure, "the shrunk sequence passes:\n" + report);
        assertTrue(failure.step() + 1 > shrunk.size(), "nothing was shrunk:\n" + report);
        // brokenAfter allocations to break it, one more to overlap; a realloc can stand for an allocation
        assertTrue(shrunk.size() <= brokenAfter + 2, "shrunk sequence is long:\n" + report);
        assertTrue(report.contains("seed " + seed), report);
        System.out.println("shrinking demonstration (expected failure):\n" + report);
    }

    @Test
    void aPassingSequenceReportsNoFailure() {
        assertNull(run(SystemAllocator::new, generate(BASE_SEED, 50)));
        assertEquals(50, generate(BASE_SEED, 50).size());
    }
}
