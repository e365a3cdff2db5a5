package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.smalloc4j.Patterns.assertAligned;
import static org.smalloc4j.Patterns.assertNamesAddress;
import static org.smalloc4j.Patterns.hex;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongUnaryOperator;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cases every {@link NativeAllocator} passes (DESIGN.md, "The allocator contract"). Extend it
 * once per allocator: implement {@link #createAllocator()}, and override a capability hook only where
 * the allocator legitimately differs from the contract's default.
 *
 * <p>A fresh allocator comes from {@link #createAllocator()} before each test and is closed after it
 * (a no-op for process-wide allocators). Random cases print their seed; rerun one with
 * {@code -Dsmalloc4j.seed=N}.
 */
abstract class AllocatorContract {

    private NativeAllocator allocator;

    /** The allocator under test, made for one test; the contract closes it afterwards. */
    protected abstract NativeAllocator createAllocator();

    /** The allocator of the running test. */
    protected final NativeAllocator allocator() {
        return allocator;
    }

    // ------------------------------------------------------------ capability hooks

    /** Does {@code close()} end this allocator (true), or is it a no-op (process-wide allocators)? */
    protected boolean closable() {
        return false;
    }

    /**
     * Do the segments this allocator handed out die when it closes? True for heaps that own their
     * memory; a decorator whose {@code close()} leaves the allocator below open (a tracker) hands out
     * that allocator's segments, which live on.
     */
    protected boolean segmentsDieAtClose() {
        return closable();
    }

    /** Can this allocator tell an address it did not hand out, or an interior one (libc cannot)? */
    protected boolean detectsForeignPointers() {
        return true;
    }

    /** Does every live size-0 block start at its own address? (A bump arena may share.) */
    protected boolean zeroSizeBlocksAreDistinct() {
        return true;
    }

    /** The largest block the cases may ask for; larger sizes are skipped (at least 4 MiB expected). */
    protected long largestSupportedSize() {
        return Long.MAX_VALUE;
    }

    /**
     * Does the allocator meet this alignment at this size? Override only for a known library bug
     * (Debian 12's mimalloc 2.0.9 at size == alignment 256, 512, 1024: mimalloc issue #700).
     */
    protected boolean honoursAlignment(long byteSize, long byteAlignment) {
        return true;
    }

    /** Blocks allocated and not yet freed, where the allocator can count them; empty otherwise. */
    protected OptionalLong liveBlocks() {
        return OptionalLong.empty();
    }

    @BeforeEach
    final void createAllocatorUnderTest() {
        allocator = createAllocator();
    }

    @AfterEach
    final void closeAllocatorUnderTest() {
        allocator.close();
    }

    // ------------------------------------------------------------ sizes and alignments

    /** 0, then every power of two up to 1 MiB with its neighbours. */
    static LongStream sizes() {
        TreeSet<Long> sizes = new TreeSet<>();
        sizes.add(0L);
        for (long p = 1; p <= 1 << 20; p <<= 1) {
            sizes.add(p - 1);
            sizes.add(p);
            sizes.add(p + 1);
        }
        return sizes.stream().mapToLong(Long::longValue);
    }

    /** Every power of two from 1 to 4096, and a few far above the sizes they come with. */
    static LongStream alignments() {
        return LongStream.concat(LongStream.rangeClosed(0, 12).map(k -> 1L << k),
                LongStream.of(1L << 13, 1L << 16, 1L << 20));
    }

    /** Sizes to try with one alignment: below it (down to 0), at it, and above it. */
    private List<Long> sizesFor(long byteAlignment) {
        TreeSet<Long> sizes = new TreeSet<>(List.of(0L, 1L, 3L, 8L, byteAlignment / 2, byteAlignment - 1,
                byteAlignment, byteAlignment + 1, 2 * byteAlignment + 5));
        sizes.removeIf(size -> size > largestSupportedSize());
        return List.copyOf(sizes);
    }

    @ParameterizedTest(name = "byteSize {0}")
    @MethodSource("sizes")
    void rawBlockOfEverySizeIsAlignedAndWritable(long byteSize) {
        assumeTrue(byteSize <= largestSupportedSize());
        for (long byteAlignment : new long[] {1, 8, 16}) {
            String what = "alloc(" + byteSize + ", " + byteAlignment + ") on " + allocator().name();
            long address = allocator().alloc(byteSize, byteAlignment);
            assertNotEquals(0, address, what + " returned 0");
            if (honoursAlignment(byteSize, byteAlignment)) {
                assertAligned(address, byteAlignment, what);
            }
            Patterns.fill(address, byteSize, byteSize);
            Patterns.check(address, byteSize, byteSize, what);
            allocator().dealloc(address, byteSize, byteAlignment);
        }
    }

    @ParameterizedTest(name = "byteSize {0}")
    @MethodSource("sizes")
    void segmentOfEverySizeIsExactZeroFilledAndWritable(long byteSize) {
        assumeTrue(byteSize <= largestSupportedSize());
        for (long byteAlignment : new long[] {1, 8, 16}) {
            String what = "allocate(" + byteSize + ", " + byteAlignment + ") on " + allocator().name();
            MemorySegment segment = allocator().allocate(byteSize, byteAlignment);
            assertEquals(byteSize, segment.byteSize(), what);
            assertTrue(segment.isNative(), what);
            assertNotEquals(0, segment.address(), what + " is NULL");
            if (honoursAlignment(byteSize, byteAlignment)) {
                assertAligned(segment.address(), byteAlignment, what);
            }
            Patterns.checkZero(segment, what);
            Patterns.fill(segment, byteSize);
            Patterns.check(segment, byteSize, what);
            allocator().free(segment);
        }
        MemorySegment plain = allocator().allocate(byteSize);
        assertEquals(byteSize, plain.byteSize());
        Patterns.checkZero(plain, "allocate(" + byteSize + ")");
        allocator().free(plain);
    }

    @ParameterizedTest(name = "byteAlignment {0}")
    @MethodSource("alignments")
    void rawBlockOfEveryAlignmentIsAlignedAndWritable(long byteAlignment) {
        for (long byteSize : sizesFor(byteAlignment)) {
            String what = "alloc(" + byteSize + ", " + byteAlignment + ") on " + allocator().name();
            long address = allocator().alloc(byteSize, byteAlignment);
            assertNotEquals(0, address, what + " returned 0");
            if (honoursAlignment(byteSize, byteAlignment)) {
                assertAligned(address, byteAlignment, what);
            }
            Patterns.fill(address, byteSize, byteAlignment);
            Patterns.check(address, byteSize, byteAlignment, what);
            allocator().dealloc(address, byteSize, byteAlignment);

            long zeroed = allocator().allocZeroed(byteSize, byteAlignment);
            assertNotEquals(0, zeroed, "allocZeroed(" + byteSize + ", " + byteAlignment + ") returned 0");
            if (honoursAlignment(byteSize, byteAlignment)) {
                assertAligned(zeroed, byteAlignment, "allocZeroed(" + byteSize + ", " + byteAlignment + ")");
            }
            Patterns.checkZero(zeroed, byteSize, "allocZeroed(" + byteSize + ", " + byteAlignment + ")");
            allocator().dealloc(zeroed, byteSize, byteAlignment);
        }
    }

    @ParameterizedTest(name = "byteAlignment {0}")
    @MethodSource("alignments")
    void segmentOfEveryAlignmentIsAlignedZeroFilledAndWritable(long byteAlignment) {
        for (long byteSize : sizesFor(byteAlignment)) {
            String what = "allocate(" + byteSize + ", " + byteAlignment + ") on " + allocator().name();
            MemorySegment segment = allocator().allocate(byteSize, byteAlignment);
            assertEquals(byteSize, segment.byteSize(), what);
            if (honoursAlignment(byteSize, byteAlignment)) {
                assertAligned(segment.address(), byteAlignment, what);
            }
            Patterns.checkZero(segment, what);
            Patterns.fill(segment, ~byteAlignment);
            Patterns.check(segment, ~byteAlignment, what);
            allocator().free(segment);
        }
    }

    // ------------------------------------------------------------ live blocks

    /** A live block and the pattern seed it holds. */
    private record Block(long address, long byteSize, long byteAlignment, long seed) {
        long end() {
            return address + byteSize;
        }

        void fill() {
            Patterns.fill(address, byteSize, seed);
        }

        void check(String what) {
            Patterns.check(address, byteSize, seed, what + ": block " + this);
        }

        @Override
        public String toString() {
            return "[" + hex(address) + ", +" + byteSize + ", align " + byteAlignment + "]";
        }
    }

    private static long seed() {
        return Long.getLong("smalloc4j.seed", new SplittableRandom().nextLong());
    }

    private static String rerun(long seed) {
        return "seed " + seed + " (rerun with -Dsmalloc4j.seed=" + seed + ")";
    }

    /** Mostly small blocks, some of a few pages, a few above 64 KiB. */
    private long randomSize(SplittableRandom random) {
        int pick = random.nextInt(100);
        long size = pick < 70 ? random.nextLong(65) : pick < 95 ? random.nextLong(65, 4097) : random.nextLong(4097, 70_000);
        return Math.min(size, largestSupportedSize());
    }

    private static long randomAlignment(SplittableRandom random) {
        return 1L << (random.nextInt(100) < 80 ? random.nextInt(5) : random.nextInt(5, 13));
    }

    private Block allocBlock(long byteSize, long byteAlignment, long seed) {
        long address = allocator().alloc(byteSize, byteAlignment);
        assertNotEquals(0, address, "alloc(" + byteSize + ", " + byteAlignment + ") returned 0");
        Block block = new Block(address, byteSize, byteAlignment, seed);
        block.fill();
        return block;
    }

    private void free(Block block) {
        allocator().dealloc(block.address(), block.byteSize(), block.byteAlignment());
    }

    /**
     * No two blocks share a byte, and (where the allocator promises it) a size-0 block starts where no
     * other live block starts.
     */
    private void assertDisjoint(List<Block> blocks, String context) {
        List<Block> sorted = new ArrayList<>(blocks);
        sorted.removeIf(block -> block.byteSize() == 0);
        sorted.sort(Comparator.comparingLong(Block::address));
        for (int i = 1; i < sorted.size(); i++) {
            Block before = sorted.get(i - 1);
            Block after = sorted.get(i);
            assertTrue(before.end() <= after.address(),
                    () -> context + ": live blocks " + before + " and " + after + " overlap");
        }
        if (zeroSizeBlocksAreDistinct()) {
            Set<Long> starts = new HashSet<>();
            for (Block block : blocks) {
                assertTrue(starts.add(block.address()),
                        () -> context + ": two live blocks start at " + hex(block.address()));
            }
        }
    }

    @Test
    void liveBlocksNeverOverlap() {
        long seed = seed();
        SplittableRandom random = new SplittableRandom(seed);
        List<Block> live = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            live.add(allocBlock(randomSize(random), randomAlignment(random), random.nextLong()));
        }
        assertDisjoint(live, rerun(seed));
        for (Block block : live) {
            block.check(rerun(seed));
            assertAligned(block.address(), honoursAlignment(block.byteSize(), block.byteAlignment())
                    ? block.byteAlignment() : 1, rerun(seed));
        }
        while (!live.isEmpty()) {
            Block block = live.remove(random.nextInt(live.size()));
            block.check(rerun(seed));
            free(block);
        }
    }

    @Test
    void randomOperationsKeepEveryLiveBlockIntact() {
        long seed = seed();
        String context = rerun(seed);
        SplittableRandom random = new SplittableRandom(seed);
        List<Block> live = new ArrayList<>();
        for (int op = 0; op < 6000; op++) {
            int pick = random.nextInt(100);
            if (live.size() < 20 || pick < 40) {
                long byteSize = randomSize(random);
                long byteAlignment = randomAlignment(random);
                if (random.nextBoolean()) {
                    live.add(allocBlock(byteSize, byteAlignment, random.nextLong()));
                } else {
                    long address = allocator().allocZeroed(byteSize, byteAlignment);
                    assertNotEquals(0, address, context);
                    Patterns.checkZero(address, byteSize, context + ": op " + op + " allocZeroed(" + byteSize + ")");
                    Block block = new Block(address, byteSize, byteAlignment, random.nextLong());
                    block.fill();
                    live.add(block);
                }
            } else if (pick < 75) {
                Block block = live.remove(random.nextInt(live.size()));
                block.check(context + ": op " + op + " before dealloc");
                free(block);
            } else {
                int index = random.nextInt(live.size());
                Block old = live.get(index);
                long newSize = randomSize(random);
                long address = allocator().realloc(old.address(), old.byteSize(), old.byteAlignment(), newSize);
                assertNotEquals(0, address, context + ": op " + op + " realloc of " + old + " to " + newSize);
                if (honoursAlignment(newSize, old.byteAlignment())) {
                    assertAligned(address, old.byteAlignment(), context + ": realloc");
                }
                Patterns.check(address, Math.min(old.byteSize(), newSize), old.seed(),
                        context + ": op " + op + " realloc of " + old + " to " + newSize + " kept content");
                Block moved = new Block(address, newSize, old.byteAlignment(), random.nextLong());
                moved.fill();
                live.set(index, moved);
            }
            if (op % 1000 == 999) {
                assertDisjoint(live, context + ": after op " + op);
                for (Block block : live) {
                    block.check(context + ": after op " + op);
                }
            }
        }
        for (Block block : live) {
            block.check(context + ": at the end");
            free(block);
        }
    }

    @ParameterizedTest(name = "byteSize {0}")
    @ValueSource(longs = {1, 8, 24, 100, 4096, 5000, 65536, 1 << 20, (1 << 20) + 1, 3 << 20})
    void zeroedAllocationIsZeroOnDirtiedReusedMemory(long byteSize) {
        assumeTrue(byteSize <= largestSupportedSize());
        for (int round = 0; round < 4; round++) {
            long dirty = allocator().alloc(byteSize, 8);
            Patterns.fillBytes(dirty, byteSize, (byte) 0xFF);
            allocator().dealloc(dirty, byteSize, 8);

            long zeroed = allocator().allocZeroed(byteSize, 8);
            assertNotEquals(0, zeroed);
            Patterns.checkZero(zeroed, byteSize, "round " + round + ": allocZeroed(" + byteSize + ", 8) after a dirty free");
            Patterns.fillBytes(zeroed, byteSize, (byte) 0xFF);
            allocator().dealloc(zeroed, byteSize, 8);

            MemorySegment segment = allocator().allocate(byteSize, 8);
            Patterns.checkZero(segment, "round " + round + ": allocate(" + byteSize + ", 8) after a dirty free");
            segment.fill((byte) 0xFF);
            allocator().free(segment);
        }
    }

    @Test
    void zeroSizeBlocksAreValidFreeableAndDistinct() {
        List<Block> live = new ArrayList<>();
        List<MemorySegment> segments = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            live.add(allocBlock(i % 3 == 0 ? 16 : 0, 1L << (i % 5), i));
            MemorySegment segment = allocator().allocate(0, 1L << (i % 4));
            assertEquals(0, segment.byteSize());
            assertNotEquals(0, segment.address(), "allocate(0) gave NULL");
            segments.add(segment);
            long zeroed = allocator().allocZeroed(0, 8);
            assertNotEquals(0, zeroed, "allocZeroed(0, 8) returned 0");
            assertAligned(zeroed, 8, "allocZeroed(0, 8)");
            live.add(new Block(zeroed, 0, 8, i));
        }
        if (zeroSizeBlocksAreDistinct()) {
            Set<Long> starts = new HashSet<>();
            for (Block block : live) {
                assertTrue(starts.add(block.address()), () -> "two live blocks start at " + hex(block.address()));
            }
            for (MemorySegment segment : segments) {
                assertTrue(starts.add(segment.address()), () -> "two live blocks start at " + hex(segment.address()));
            }
        }
        assertDisjoint(live, "size-0 and 16-byte blocks");
        live.forEach(this::free);
        segments.forEach(allocator()::free);
    }

    // ------------------------------------------------------------ realloc

    /** Grows through {@code sizes}, checking that the bytes both sizes share survive every step. */
    private void rawLadder(long byteAlignment, long[] sizes, long seed) {
        long size = sizes[0];
        long address = allocator().alloc(size, byteAlignment);
        Patterns.fill(address, size, seed);
        for (int i = 1; i < sizes.length; i++) {
            long newSize = sizes[i];
            String what = "realloc(" + hex(address) + ", " + size + ", " + byteAlignment + ", " + newSize + ")";
            long moved = allocator().realloc(address, size, byteAlignment, newSize);
            assertNotEquals(0, moved, what + " returned 0");
            assertAligned(moved, byteAlignment, what);
            Patterns.check(moved, Math.min(size, newSize), seed, what + " kept content");
            Patterns.fill(moved, newSize, seed);
            address = moved;
            size = newSize;
        }
        allocator().dealloc(address, size, byteAlignment);
    }

    /** The sizes from 1 B to 4 MiB by {@code next}, then back down. */
    private long[] upAndDown(LongUnaryOperator next) {
        List<Long> up = new ArrayList<>();
        for (long size = 1; size <= Math.min(4L << 20, largestSupportedSize()); size = next.applyAsLong(size)) {
            up.add(size);
        }
        List<Long> ladder = new ArrayList<>(up);
        for (int i = up.size() - 2; i >= 0; i--) {
            ladder.add(up.get(i));
        }
        return ladder.stream().mapToLong(Long::longValue).toArray();
    }

    @ParameterizedTest(name = "byteAlignment {0}")
    @ValueSource(longs = {1, 16, 4096})
    void reallocByDoublingKeepsContentUpAndDown(long byteAlignment) {
        rawLadder(byteAlignment, upAndDown(size -> size * 2), 42);
    }

    @ParameterizedTest(name = "byteAlignment {0}")
    @ValueSource(longs = {1, 8, 64})
    void reallocByOddStepsKeepsContentUpAndDown(long byteAlignment) {
        rawLadder(byteAlignment, upAndDown(size -> size * 3 + 1), 43);
    }

    private void ffmLadder(long byteAlignment, long[] sizes) {
        MemorySegment segment = byteAlignment == NativeAllocator.DEFAULT_REALLOC_ALIGNMENT
                ? allocator().allocate(sizes[0]) : allocator().allocate(sizes[0], byteAlignment);
        Patterns.fill(segment, 7);
        for (int i = 1; i < sizes.length; i++) {
            long size = segment.byteSize();
            long newSize = sizes[i];
            String what = "reallocate(segment of " + size + " B, " + newSize
                    + (byteAlignment == NativeAllocator.DEFAULT_REALLOC_ALIGNMENT ? "" : ", " + byteAlignment) + ")";
            MemorySegment moved = byteAlignment == NativeAllocator.DEFAULT_REALLOC_ALIGNMENT
                    ? allocator().reallocate(segment, newSize)
                    : allocator().reallocate(segment, newSize, byteAlignment);
            assertEquals(newSize, moved.byteSize(), what);
            assertAligned(moved.address(), byteAlignment, what);
            Patterns.check(moved.asSlice(0, Math.min(size, newSize)), 7, what + " kept content");
            if (newSize > size) {
                Patterns.checkZero(moved.asSlice(size), what + " zero-filled the grown tail");
            }
            Patterns.fill(moved, 7);
            segment = moved;
        }
        allocator().free(segment);
    }

    @Test
    void reallocateKeeps16ByteAlignmentAndZeroFillsTheGrownTail() {
        ffmLadder(NativeAllocator.DEFAULT_REALLOC_ALIGNMENT, upAndDown(size -> size * 2));
        ffmLadder(NativeAllocator.DEFAULT_REALLOC_ALIGNMENT, upAndDown(size -> size * 3 + 1));
    }

    @ParameterizedTest(name = "byteAlignment {0}")
    @ValueSource(longs = {1, 32, 256, 4096})
    void reallocateWithAnAlignmentKeepsIt(long byteAlignment) {
        ffmLadder(byteAlignment, upAndDown(size -> size * 5 + 3));
    }

    @Test
    void reallocToZeroGivesAValidBlock() {
        Block neighbour = allocBlock(64, 8, 1);
        long address = allocator().alloc(64, 8);
        long zero = allocator().realloc(address, 64, 8, 0);
        assertNotEquals(0, zero, "realloc to size 0 returned 0");
        assertAligned(zero, 8, "realloc to size 0");
        allocator().dealloc(zero, 0, 8);

        MemorySegment segment = allocator().allocate(40);
        MemorySegment empty = allocator().reallocate(segment, 0);
        assertEquals(0, empty.byteSize());
        assertNotEquals(0, empty.address(), "reallocate to size 0 gave NULL");
        assertAligned(empty.address(), NativeAllocator.DEFAULT_REALLOC_ALIGNMENT, "reallocate to size 0");
        allocator().free(empty);
        neighbour.check("neighbour");
        free(neighbour);
    }

    @Test
    void reallocOfNullAllocates() {
        long address = allocator().realloc(0, 0, 64, 100);
        assertNotEquals(0, address, "realloc(0, 0, 64, 100) returned 0");
        assertAligned(address, 64, "realloc(0, 0, 64, 100)");
        Patterns.fill(address, 100, 3);
        Patterns.check(address, 100, 3, "realloc(0, 0, 64, 100)");
        allocator().dealloc(address, 100, 64);

        MemorySegment segment = allocator().reallocate(MemorySegment.NULL, 100);
        assertEquals(100, segment.byteSize());
        assertAligned(segment.address(), NativeAllocator.DEFAULT_REALLOC_ALIGNMENT, "reallocate(NULL, 100)");
        Patterns.checkZero(segment, "reallocate(NULL, 100)");
        allocator().free(segment);

        MemorySegment aligned = allocator().reallocate(MemorySegment.NULL, 100, 512);
        assertEquals(100, aligned.byteSize());
        assertAligned(aligned.address(), 512, "reallocate(NULL, 100, 512)");
        Patterns.checkZero(aligned, "reallocate(NULL, 100, 512)");
        allocator().free(aligned);
    }

    @Test
    void failedReallocLeavesTheBlockIntact() {
        Block block = allocBlock(64, 8, 11);
        assertEquals(0, allocator().realloc(block.address(), 64, 8, Long.MAX_VALUE));
        assertEquals(0, allocator().realloc(block.address(), 64, 1L << 62, 64));
        block.check("after a failed realloc");
        assertStillAllocated(block);
        free(block);

        MemorySegment segment = allocator().allocate(64);
        Patterns.fill(segment, 12);
        OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> allocator().reallocate(segment, Long.MAX_VALUE));
        assertTrue(error.getMessage().contains(allocator().name()), error::getMessage);
        Patterns.check(segment, 12, "after a failed reallocate");
        allocator().free(segment);
    }

    // ------------------------------------------------------------ bad arguments

    /**
     * The block was not freed by a rejected call: its content is there, the allocator counts it (where
     * it can), and new blocks of its size do not land on it.
     */
    private void assertStillAllocated(Block block) {
        block.check("after a rejected call");
        List<Block> others = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            others.add(allocBlock(block.byteSize(), block.byteAlignment(), 100 + i));
        }
        List<Block> all = new ArrayList<>(others);
        all.add(block);
        assertDisjoint(all, "a rejected call freed " + block);
        block.check("after allocating beside it");
        others.forEach(this::free);
    }

    static LongStream badAlignments() {
        return LongStream.of(0, -1, 3, 24, Long.MIN_VALUE);
    }

    @ParameterizedTest(name = "byteAlignment {0}")
    @MethodSource("badAlignments")
    void badAlignmentIsRejectedEverywhereAndChangesNothing(long byteAlignment) {
        Block block = allocBlock(64, 8, 5);
        MemorySegment segment = allocator().allocate(48);
        Patterns.fill(segment, 6);
        OptionalLong liveBefore = liveBlocks();
        assertAll(
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().alloc(8, byteAlignment), "alloc"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().allocZeroed(8, byteAlignment), "allocZeroed"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().allocate(8, byteAlignment), "allocate"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().allocate(0, byteAlignment), "allocate(0)"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().dealloc(block.address(), 64, byteAlignment), "dealloc"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().dealloc(0, 64, byteAlignment), "dealloc(0)"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().realloc(block.address(), 64, byteAlignment, 128), "realloc"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().realloc(block.address(), 64, byteAlignment, 8), "realloc down"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().realloc(0, 0, byteAlignment, 8), "realloc(0)"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().reallocate(segment, 128, byteAlignment), "reallocate"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().reallocate(MemorySegment.NULL, 8, byteAlignment), "reallocate(NULL)"));
        assertEquals(liveBefore, liveBlocks(), "rejected calls changed the count of live blocks");
        assertStillAllocated(block);
        Patterns.check(segment, 6, "segment after rejected calls");
        free(block);
        allocator().free(segment);
    }

    @ParameterizedTest(name = "size {0}")
    @ValueSource(longs = {-1, -4096, Long.MIN_VALUE})
    void negativeSizeIsRejectedEverywhereAndChangesNothing(long badSize) {
        Block block = allocBlock(64, 8, 7);
        MemorySegment segment = allocator().allocate(48);
        Patterns.fill(segment, 8);
        OptionalLong liveBefore = liveBlocks();
        assertAll(
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().alloc(badSize, 8), "alloc"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().allocZeroed(badSize, 8), "allocZeroed"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().allocate(badSize, 8), "allocate"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().allocate(badSize), "allocate(size)"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().dealloc(block.address(), badSize, 8), "dealloc"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().dealloc(0, badSize, 8), "dealloc(0)"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().realloc(block.address(), badSize, 8, 128), "realloc with bad oldSize"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().realloc(block.address(), 64, 8, badSize), "realloc with bad newSize"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().realloc(0, 0, 8, badSize), "realloc(0)"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().realloc(0, badSize, 8, 8), "realloc(0) bad oldSize"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().reallocate(segment, badSize), "reallocate"),
                () -> assertThrows(IllegalArgumentException.class, () -> allocator().reallocate(segment, badSize, 16), "reallocate aligned"),
                () -> assertThrows(IllegalArgumentException.class,
                        () -> allocator().reallocate(MemorySegment.NULL, badSize), "reallocate(NULL)"));
        assertEquals(liveBefore, liveBlocks(), "rejected calls changed the count of live blocks");
        assertStillAllocated(block);
        Patterns.check(segment, 8, "segment after rejected calls");
        free(block);
        allocator().free(segment);
    }

    // ------------------------------------------------------------ foreign pointers and NULL

    /** Every way to hand {@code address} back is rejected, naming it in hex. */
    private void assertEveryReturnRejects(long address, long byteSize) {
        MemorySegment segment = MemorySegment.ofAddress(address).reinterpret(byteSize);
        List<Executable> calls = List.of(
                () -> allocator().dealloc(address, byteSize, 1),
                () -> allocator().realloc(address, byteSize, 1, byteSize * 2),
                () -> allocator().realloc(address, byteSize, 1, 1),
                () -> allocator().free(segment),
                () -> allocator().reallocate(segment, byteSize * 2),
                () -> allocator().reallocate(segment, 1, 1));
        for (int i = 0; i < calls.size(); i++) {
            Executable call = calls.get(i);
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, call::execute,
                    "call " + i + " (dealloc, realloc up, realloc down, free, reallocate, reallocate down) with "
                            + hex(address));
            assertNamesAddress(thrown, address);
        }
    }

    @Test
    void addressesOfAnotherAllocatorAreRejectedAndHarmNothing() {
        assumeTrue(detectsForeignPointers());
        List<Block> live = List.of(allocBlock(64, 16, 21), allocBlock(4096, 4096, 22), allocBlock(5, 1, 23));
        OptionalLong liveBefore = liveBlocks();
        try (Arena other = Arena.ofConfined()) {
            for (long byteSize : new long[] {8, 64, 4096, 1 << 20}) {
                MemorySegment foreign = other.allocate(byteSize, 16);
                assertEveryReturnRejects(foreign.address(), byteSize);
            }
        }
        MemorySegment automatic = Arena.ofAuto().allocate(8);
        assertEveryReturnRejects(automatic.address(), 8);
        assertEquals(liveBefore, liveBlocks());
        for (Block block : live) {
            block.check("after foreign pointers were rejected");
            free(block);
        }
    }

    @Test
    void interiorPointersAreRejectedAndHarmNothing() {
        assumeTrue(detectsForeignPointers());
        List<Block> live = List.of(allocBlock(64, 16, 31), allocBlock(256, 8, 32), allocBlock(100_000, 64, 33));
        OptionalLong liveBefore = liveBlocks();
        for (Block block : live) {
            for (long inside : new long[] {1, 8, block.byteSize() / 2}) {
                assertEveryReturnRejects(block.address() + inside, 8);
            }
        }
        assertEquals(liveBefore, liveBlocks());
        for (Block block : live) {
            block.check("after interior pointers were rejected");
            free(block);
        }
    }

    @Test
    void heapSegmentsAreRejected() {
        MemorySegment onHeap = MemorySegment.ofArray(new byte[64]);
        assertThrows(IllegalArgumentException.class, () -> allocator().free(onHeap));
        assertThrows(IllegalArgumentException.class, () -> allocator().reallocate(onHeap, 128));
        assertThrows(IllegalArgumentException.class, () -> allocator().reallocate(onHeap, 128, 8));
        assertThrows(IllegalArgumentException.class, () -> allocator().free(MemorySegment.ofArray(new long[0])));
    }

    @Test
    void nullIsIgnoredByDeallocAndFree() {
        Block block = allocBlock(32, 8, 41);
        OptionalLong liveBefore = liveBlocks();
        allocator().dealloc(0, 0, 1);
        allocator().dealloc(0, 64, 8);
        allocator().free(MemorySegment.NULL);
        assertEquals(liveBefore, liveBlocks());
        block.check("after freeing NULL");
        free(block);
    }

    // ------------------------------------------------------------ exhaustion

    @Test
    void impossibleRequestsReturnZero() {
        assertEquals(0, allocator().alloc(Long.MAX_VALUE, 1));
        assertEquals(0, allocator().alloc(Long.MAX_VALUE - 4096, 8));
        assertEquals(0, allocator().alloc(16, 1L << 62));
        assertEquals(0, allocator().allocZeroed(Long.MAX_VALUE, 1));
        assertEquals(0, allocator().allocZeroed(16, 1L << 62));
        assertEquals(0, allocator().realloc(0, 0, 1, Long.MAX_VALUE));
    }

    @Test
    void allocateThrowsOutOfMemoryErrorNamingAllocatorAndSize() {
        OutOfMemoryError huge = assertThrows(OutOfMemoryError.class, () -> allocator().allocate(Long.MAX_VALUE));
        assertTrue(huge.getMessage().contains(allocator().name()), huge::getMessage);
        assertTrue(huge.getMessage().contains("9223372036854775807"), huge::getMessage);

        OutOfMemoryError aligned = assertThrows(OutOfMemoryError.class, () -> allocator().allocate(16, 1L << 62));
        assertTrue(aligned.getMessage().contains(allocator().name()), aligned::getMessage);
        assertTrue(aligned.getMessage().contains("16"), aligned::getMessage);

        OutOfMemoryError fromNull = assertThrows(OutOfMemoryError.class,
                () -> allocator().reallocate(MemorySegment.NULL, Long.MAX_VALUE));
        assertTrue(fromNull.getMessage().contains("9223372036854775807"), fromNull::getMessage);
    }

    // ------------------------------------------------------------ arenas

    @Test
    void arenaAllocationsAreZeroFilledAndUsable() {
        long[] sizes = {1, 8, 100, 4096, 70_000};
        for (long byteSize : sizes) { // leave dirty memory behind to be reused
            long dirty = allocator().alloc(byteSize, 8);
            Patterns.fillBytes(dirty, byteSize, (byte) 0xA5);
            allocator().dealloc(dirty, byteSize, 8);
        }
        try (Arena arena = allocator().newArena()) {
            List<MemorySegment> segments = new ArrayList<>();
            for (long byteSize : sizes) {
                MemorySegment segment = arena.allocate(byteSize, 8);
                assertEquals(byteSize, segment.byteSize());
                assertAligned(segment.address(), 8, "arena.allocate(" + byteSize + ", 8)");
                Patterns.checkZero(segment, "arena.allocate(" + byteSize + ", 8)");
                Patterns.fill(segment, byteSize);
                segments.add(segment);
            }
            MemorySegment page = arena.allocate(4096, 4096);
            assertAligned(page.address(), 4096, "arena.allocate(4096, 4096)");
            MemorySegment longs = arena.allocateFrom(ValueLayout.JAVA_LONG, 1, 2, 3);
            assertEquals(2, longs.getAtIndex(ValueLayout.JAVA_LONG, 1));
            assertSame(arena.scope(), segments.get(0).scope());
            for (MemorySegment segment : segments) {
                Patterns.check(segment, segment.byteSize(), "arena segment");
            }
        }
    }

    @Test
    void arenaGivesEverythingBackAtClose() {
        OptionalLong before = liveBlocks();
        assumeTrue(before.isPresent(), "the allocator cannot count its live blocks");
        Arena arena = allocator().newArena();
        for (int i = 0; i < 50; i++) {
            arena.allocate(i * 37L, 1L << (i % 7));
        }
        assertTrue(liveBlocks().getAsLong() > before.getAsLong(), "the arena's blocks do not count as live");
        arena.close();
        assertEquals(before, liveBlocks(), "blocks left behind by a closed arena");
    }

    @Test
    void arenaSegmentsDieAtClose() {
        Arena arena = allocator().newArena();
        MemorySegment segment = arena.allocate(64);
        segment.set(ValueLayout.JAVA_LONG, 0, 42);
        arena.close();
        assertFalse(segment.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_LONG, 0));
        assertThrows(IllegalStateException.class, () -> segment.fill((byte) 1));
        assertThrows(IllegalStateException.class, () -> arena.allocate(8));
    }

    @Test
    void arenaIsConfinedToItsThread() throws InterruptedException {
        try (Arena arena = allocator().newArena()) {
            MemorySegment mine = arena.allocate(16);
            AtomicReference<Throwable> allocation = new AtomicReference<>();
            AtomicReference<Throwable> closing = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    arena.allocate(8);
                } catch (Throwable t) {
                    allocation.set(t);
                }
                try {
                    arena.close();
                } catch (Throwable t) {
                    closing.set(t);
                }
            });
            other.join();
            assertInstanceOf(WrongThreadException.class, allocation.get(), "allocation from another thread");
            assertInstanceOf(WrongThreadException.class, closing.get(), "close from another thread");
            mine.set(ValueLayout.JAVA_INT, 0, 7); // still open
        }
    }

    // ------------------------------------------------------------ closing

    @Test
    void closedAllocatorRefusesEveryCall() {
        assumeTrue(closable());
        long address = allocator().alloc(64, 8);
        MemorySegment segment = allocator().allocate(64);
        allocator().close();
        List<Executable> calls = List.of(
                () -> allocator().alloc(8, 1),
                () -> allocator().alloc(0, 1),
                () -> allocator().allocZeroed(8, 1),
                () -> allocator().dealloc(address, 64, 8),
                () -> allocator().realloc(address, 64, 8, 128),
                () -> allocator().realloc(address, 64, 8, 8),
                () -> allocator().realloc(0, 0, 8, 128),
                () -> allocator().allocate(8),
                () -> allocator().allocate(8, 8),
                () -> allocator().free(segment),
                () -> allocator().reallocate(segment, 128),
                () -> allocator().reallocate(MemorySegment.NULL, 128),
                () -> allocator().newArena());
        for (int i = 0; i < calls.size(); i++) {
            Executable call = calls.get(i);
            IllegalStateException thrown = assertThrows(IllegalStateException.class, call::execute, "call " + i);
            assertTrue(thrown.getMessage().contains("is closed"), thrown::getMessage);
            assertTrue(thrown.getMessage().contains(allocator().name()), thrown::getMessage);
        }
    }

    @Test
    void closingTwiceIsFine() {
        assumeTrue(closable());
        allocator().close();
        allocator().close();
        assertThrows(IllegalStateException.class, () -> allocator().alloc(8, 1));
    }

    @Test
    void segmentsDieWhenTheAllocatorCloses() {
        assumeTrue(segmentsDieAtClose());
        MemorySegment small = allocator().allocate(64);
        MemorySegment large = allocator().allocate(1 << 20);
        MemorySegment grown = allocator().reallocate(allocator().allocate(8), 100_000);
        small.set(ValueLayout.JAVA_LONG, 0, 1);
        allocator().close();
        for (MemorySegment segment : List.of(small, large, grown)) {
            assertFalse(segment.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_LONG, 0));
            assertThrows(IllegalStateException.class, () -> segment.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            assertThrows(IllegalStateException.class, () -> segment.fill((byte) 1));
        }
    }

    @Test
    void closingAProcessWideAllocatorDoesNothing() {
        assumeFalse(closable());
        MemorySegment segment = allocator().allocate(64);
        Patterns.fill(segment, 51);
        allocator().close();
        allocator().close();
        Patterns.check(segment, 51, "a segment after close of a process-wide allocator");
        long address = allocator().alloc(64, 8);
        assertNotEquals(0, address);
        allocator().dealloc(address, 64, 8);
        allocator().free(segment);
    }
}
