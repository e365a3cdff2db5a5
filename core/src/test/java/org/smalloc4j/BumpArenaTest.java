package org.smalloc4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.smalloc4j.Patterns.assertAligned;
import static org.smalloc4j.Patterns.assertNamesAddress;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * What is particular to {@link BumpArena}: bumping inside a chunk, new chunks, large blocks straight
 * from the parent, roll-back and in-place growth of the last block, {@code reset()} (one chunk kept,
 * no parent call when one chunk sufficed, earlier segments dead), closing, and confinement. The
 * shared contract runs in {@link BumpArenaContractTest} and its subclasses.
 */
class BumpArenaTest {

    private static final long CHUNK = 4096;

    private final ParentCallCounter parent = new ParentCallCounter(Smalloc.global());
    private final BumpArena arena = BumpArena.of(parent, CHUNK);

    @AfterEach
    void everythingGoesBackToTheParent() {
        arena.close();
        assertEquals(0, parent.liveBlocks(), "blocks the closed arena did not give back to its parent");
    }

    @Test
    void allocationIsABumpInsideOneChunk() {
        long first = arena.alloc(16, 8);
        assertEquals(1, parent.allocCalls(), "the first allocation takes one chunk");
        assertTrue(parent.inLiveBlock(first));
        assertEquals(first + 16, arena.alloc(10, 1));
        assertEquals(first + 26, arena.alloc(0, 1), "size 0 is a position, nothing more");
        assertEquals(first + 32, arena.alloc(8, 16), "aligned up from the top");
        long page = arena.alloc(100, 1024);
        assertAligned(page, 1024, "alloc(100, 1024)");
        assertTrue(parent.inLiveBlock(page));
        assertEquals(1, parent.allocCalls(), "all of it inside the first chunk");
        assertEquals(1, arena.chunkCount());
    }

    @Test
    void aFullChunkIsFollowedByANewOne() {
        long first = arena.alloc(3000, 8);
        long second = arena.alloc(3000, 8);
        assertEquals(2, arena.chunkCount());
        assertEquals(2, parent.liveBlocks());
        assertFalse(second > first && second < first + CHUNK, "the second block is in the new chunk");
        Patterns.fill(first, 3000, 1);
        Patterns.fill(second, 3000, 2);
        Patterns.check(first, 3000, 1, "first chunk");
        Patterns.check(second, 3000, 2, "second chunk");
    }

    @Test
    void largeRequestsGoStraightToTheParent() {
        arena.alloc(8, 8); // the first chunk
        long before = parent.allocCalls();
        long large = arena.alloc(CHUNK, 8);
        long alignedLarge = arena.alloc(8, CHUNK); // fits a chunk only with luck: large
        long allocateLarge = arena.allocate(3 * CHUNK).address();
        assertEquals(before + 3, parent.allocCalls());
        assertEquals(3, arena.largeBlockCount());
        assertAligned(alignedLarge, CHUNK, "alloc(8, CHUNK)");
        assertEquals(1, arena.chunkCount(), "large blocks take no chunk");

        arena.dealloc(large, CHUNK, 8);
        arena.dealloc(alignedLarge, 8, CHUNK);
        assertEquals(1, arena.largeBlockCount(), "dealloc gives a large block back at once");
        assertEquals(2, parent.liveBlocks(), "one chunk and one large block");
        IllegalArgumentException notLarge = assertThrows(IllegalArgumentException.class,
                () -> arena.dealloc(large, CHUNK, 8), "a large-sized address that is no large block");
        assertNamesAddress(notLarge, large);
        assertTrue(allocateLarge != 0);
        arena.reset();
        assertEquals(0, arena.largeBlockCount(), "reset gives large blocks back");
        assertEquals(1, parent.liveBlocks());
    }

    @Test
    void theLastBlockRollsBackOnce() {
        long a = arena.alloc(100, 8);
        long b = arena.alloc(50, 8);
        arena.dealloc(b, 50, 8);
        assertEquals(b, arena.alloc(20, 8), "the last block's bytes are handed out again");
        long c = arena.alloc(30, 8);
        arena.dealloc(c, 30, 8);
        arena.dealloc(a, 100, 8); // not the last: waits for reset
        long d = arena.alloc(8, 8);
        assertEquals(c, d, "one step back only, and a's bytes are not reused");
    }

    @Test
    void theLastBlockGrowsAndShrinksInPlace() {
        long a = arena.alloc(64, 16);
        Patterns.fill(a, 64, 3);
        long grown = arena.realloc(a, 64, 16, 1000);
        assertEquals(a, grown, "the last block grows in place");
        Patterns.check(grown, 64, 3, "grown in place");
        long shrunk = arena.realloc(grown, 1000, 16, 10);
        assertEquals(a, shrunk);
        assertEquals(a + 10, arena.alloc(1, 1), "shrinking gave the tail back");

        long b = arena.alloc(40, 8);
        Patterns.fill(b, 40, 4);
        arena.alloc(8, 8); // b is no longer last
        long moved = arena.realloc(b, 40, 8, 80);
        assertNotEquals(b, moved, "a block that is not last moves");
        Patterns.check(moved, 40, 4, "moved block");

        long misaligned = arena.alloc(8, 8);
        if ((misaligned & 63) == 0) {
            misaligned = arena.alloc(8, 8);
        }
        long aligned = arena.realloc(misaligned, 8, 64, 16);
        assertNotEquals(misaligned, aligned, "in place only where the alignment holds");
        assertAligned(aligned, 64, "realloc to alignment 64");
    }

    @Test
    void aLastBlockThatOutgrowsItsChunkMovesToTheParentAndBack() {
        long a = arena.alloc(100, 8);
        Patterns.fill(a, 100, 5);
        long large = arena.realloc(a, 100, 8, 2 * CHUNK);
        assertEquals(1, arena.largeBlockCount());
        Patterns.check(large, 100, 5, "moved to the parent");
        assertEquals(a, arena.alloc(8, 8), "the old block was last: rolled back after the move");
        Patterns.fill(large, 2 * CHUNK, 6);
        long larger = arena.realloc(large, 2 * CHUNK, 8, 4 * CHUNK);
        Patterns.check(larger, 2 * CHUNK, 6, "grown by the parent");
        long small = arena.realloc(larger, 4 * CHUNK, 8, 200);
        Patterns.check(small, 200, 6, "back into a chunk");
        assertEquals(0, arena.largeBlockCount(), "the large block went back");
        assertEquals(1, parent.liveBlocks(), "only the chunk");
    }

    @Test
    void resetKeepsOneChunkAndGivesTheRestBack() {
        for (int i = 0; i < 10; i++) {
            arena.alloc(3000, 8);
        }
        arena.alloc(10 * CHUNK, 8);
        assertEquals(10, arena.chunkCount());
        assertEquals(11, parent.liveBlocks());
        long callsBefore = parent.calls();
        arena.reset();
        assertEquals(1, arena.chunkCount());
        assertEquals(1, parent.liveBlocks(), "one chunk kept");
        assertEquals(callsBefore + 10, parent.calls(), "nine spare chunks and one large block went back");

        long afterReset = arena.alloc(3000, 8);
        assertTrue(parent.inLiveBlock(afterReset), "allocation starts again in the kept chunk");
        assertEquals(callsBefore + 10, parent.calls(), "no parent call: the kept chunk serves it");
    }

    @Test
    void resetOfAnArenaThatFitOneChunkCallsNoParent() {
        for (int round = 0; round < 100; round++) {
            long first = 0;
            for (int i = 0; i < 200; i++) {
                long address = arena.alloc(16, 8);
                first = i == 0 ? address : first;
            }
            long calls = parent.calls();
            arena.reset();
            assertEquals(calls, parent.calls(), "reset of 200 blocks in one chunk made parent calls");
            assertEquals(first, arena.alloc(16, 8), "each generation starts at the chunk's base");
            arena.reset();
        }
        assertEquals(1, parent.allocCalls(), "100 generations, one chunk");
    }

    @Test
    void segmentsDieAtResetAndNewOnesLive() {
        MemorySegment small = arena.allocate(64);
        MemorySegment large = arena.allocate(2 * CHUNK);
        MemorySegment text = arena.allocateFrom("hello");
        MemorySegment.Scope before = arena.scope();
        assertSame(before, small.scope());
        small.set(JAVA_LONG, 0, 42);
        arena.reset();
        for (MemorySegment dead : List.of(small, large, text)) {
            assertFalse(dead.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> dead.get(JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> dead.fill((byte) 1));
        }
        assertFalse(before.isAlive());
        assertNotSame(before, arena.scope());
        assertTrue(arena.scope().isAlive());

        MemorySegment fresh = arena.allocate(64);
        assertEquals(small.address(), fresh.address(), "the kept chunk is reused");
        assertEquals(0, fresh.get(JAVA_LONG, 0), "zero-filled over the old content");
        assertSame(arena.scope(), fresh.scope());

        IllegalArgumentException freed = assertThrows(IllegalArgumentException.class, () -> arena.free(small));
        assertNamesAddress(freed, small.address());
        assertThrows(IllegalArgumentException.class, () -> arena.reallocate(small, 128));
        assertEquals(0, fresh.get(JAVA_LONG, 0), "a rejected free of a dead segment touched the live one");
    }

    @Test
    void arenasOfNewArenaCloseWithTheGeneration() {
        Arena inner = arena.newArena();
        MemorySegment segment = inner.allocate(2 * CHUNK); // a large block, freed through the inner arena
        segment.set(JAVA_INT, 0, 1);
        assertEquals(1, arena.largeBlockCount());
        arena.reset();
        assertFalse(segment.scope().isAlive());
        assertEquals(0, arena.largeBlockCount());
        assertThrows(IllegalStateException.class, inner::close, "closing an arena that reset() closed");

        try (Arena scoped = arena.newArena()) {
            scoped.allocate(2 * CHUNK);
            assertEquals(1, arena.largeBlockCount());
        }
        assertEquals(0, arena.largeBlockCount(), "an inner arena gives its blocks back when it closes");
    }

    @Test
    void closeGivesEverythingBackAndRefusesLaterCalls() {
        MemorySegment segment = arena.allocate(100);
        long address = arena.alloc(10, 8);
        arena.alloc(2 * CHUNK, 8);
        arena.alloc(3000, 8);
        arena.close();
        assertEquals(0, parent.liveBlocks());
        assertThrows(IllegalStateException.class, () -> segment.get(JAVA_BYTE, 0));
        List<Executable> calls = List.of(() -> arena.alloc(8, 8), () -> arena.allocZeroed(8, 8),
                () -> arena.dealloc(address, 10, 8), () -> arena.dealloc(0, 0, 1), () -> arena.realloc(address, 10, 8, 20),
                () -> arena.allocate(8), () -> arena.free(segment), () -> arena.reallocate(segment, 8),
                () -> arena.reset(), () -> arena.newArena(), () -> arena.asSegment(address, 10));
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertEquals("heap 'bump:counting' is closed", e.getMessage());
        }
        arena.close();
        assertFalse(arena.scope().isAlive());
        assertEquals("bump:counting", arena.name());
    }

    @Test
    void confinedToItsThread() throws InterruptedException {
        MemorySegment segment = arena.allocate(64);
        long address = arena.alloc(8, 8);
        List<Consumer<BumpArena>> calls = List.of(a -> a.alloc(8, 8), a -> a.allocZeroed(8, 8), a -> a.dealloc(address, 8, 8),
                a -> a.realloc(address, 8, 8, 16), a -> a.allocate(8), a -> a.free(segment), a -> a.reset(), BumpArena::close,
                BumpArena::newArena, a -> segment.get(JAVA_BYTE, 0));
        List<Throwable> thrown = new ArrayList<>();
        Thread other = Thread.ofPlatform().start(() -> {
            for (Consumer<BumpArena> call : calls) {
                try {
                    call.accept(arena);
                    thrown.add(null);
                } catch (Throwable t) {
                    thrown.add(t);
                }
            }
        });
        other.join();
        for (int i = 0; i < calls.size(); i++) {
            assertInstanceOf(WrongThreadException.class, thrown.get(i), "call " + i + " from another thread");
        }
        segment.set(JAVA_BYTE, 0, (byte) 1); // still open and ours
        assertEquals(address + 8, arena.alloc(1, 1), "the other thread's calls changed nothing");
    }

    @Test
    void usableAsAnArena() {
        String greeting;
        try (Arena scoped = BumpArena.of(Smalloc.global())) {
            MemorySegment text = scoped.allocateFrom("hello, arena");
            MemorySegment longs = scoped.allocateFrom(JAVA_LONG, 1, 2, 3);
            greeting = text.getString(0);
            assertEquals(3, longs.getAtIndex(JAVA_LONG, 2));
            assertSame(scoped.scope(), text.scope());
        }
        assertEquals("hello, arena", greeting);
    }

    @Test
    void chunkSizeAndNames() {
        assertThrows(IllegalArgumentException.class, () -> BumpArena.of(parent, 0));
        assertThrows(IllegalArgumentException.class, () -> BumpArena.of(parent, -4096));
        assertThrows(NullPointerException.class, () -> BumpArena.of(null));
        try (BumpArena defaults = BumpArena.of(new SystemAllocator())) {
            assertEquals(BumpArena.DEFAULT_CHUNK_BYTES, defaults.chunkBytes());
            assertEquals("bump:system", defaults.name());
            assertTrue(defaults.toString().contains("bump:system"), defaults::toString);
        }
        try (BumpArena tiny = BumpArena.of(parent, 1)) { // every block but size 0 is large
            assertNotEquals(0, tiny.alloc(1, 1));
            assertEquals(1, tiny.largeBlockCount());
            assertEquals(0, tiny.chunkCount());
            assertNotEquals(0, tiny.alloc(0, 1));
            assertEquals(1, tiny.chunkCount());
        }
    }

    /** A random mix with resets, checked against a model of the live blocks; prints its seed on failure. */
    @Test
    void randomOperationsWithResetsKeepLiveBlocksIntact() {
        long seed = Long.getLong("smalloc4j.seed", new SplittableRandom().nextLong());
        String context = "seed " + seed + " (rerun with -Dsmalloc4j.seed=" + seed + ")";
        SplittableRandom random = new SplittableRandom(seed);
        record Block(long address, long byteSize, long byteAlignment, long seed) { }
        List<Block> live = new ArrayList<>();
        AtomicReference<String> step = new AtomicReference<>();
        for (int op = 0; op < 20_000; op++) {
            int pick = random.nextInt(1000);
            long byteSize = random.nextInt(10) == 0 ? random.nextLong(CHUNK, 3 * CHUNK) : random.nextLong(200);
            long byteAlignment = 1L << random.nextInt(8);
            step.set(context + ", op " + op);
            if (pick < 5) {
                arena.reset();
                live.clear();
                assertTrue(arena.chunkCount() <= 1, step.get() + ": after reset");
                assertEquals(arena.chunkCount(), parent.liveBlocks(), step.get() + ": after reset");
            } else if (pick < 450 || live.isEmpty()) {
                long address = random.nextBoolean() ? arena.alloc(byteSize, byteAlignment) : arena.allocZeroed(byteSize, byteAlignment);
                assertAligned(address, byteAlignment, step.get());
                Block block = new Block(address, byteSize, byteAlignment, random.nextLong());
                Patterns.fill(address, byteSize, block.seed());
                live.add(block);
            } else if (pick < 750) {
                Block block = live.remove(random.nextInt(live.size()));
                Patterns.check(block.address(), block.byteSize(), block.seed(), step.get() + " before dealloc");
                arena.dealloc(block.address(), block.byteSize(), block.byteAlignment());
            } else {
                int index = random.nextInt(live.size());
                Block old = live.get(index);
                long moved = arena.realloc(old.address(), old.byteSize(), old.byteAlignment(), byteSize);
                assertAligned(moved, old.byteAlignment(), step.get());
                Patterns.check(moved, Math.min(old.byteSize(), byteSize), old.seed(), step.get() + " realloc kept content");
                Block block = new Block(moved, byteSize, old.byteAlignment(), random.nextLong());
                Patterns.fill(moved, byteSize, block.seed());
                live.set(index, block);
            }
            if (op % 500 == 0) {
                for (Block block : live) {
                    Patterns.check(block.address(), block.byteSize(), block.seed(), step.get());
                }
            }
        }
        for (Block block : live) {
            Patterns.check(block.address(), block.byteSize(), block.seed(), context + " at the end");
        }
    }

    @Test
    void aRequestLargeForAChunkButBumpedAtAnAlignedStartIsFreedAsABumpBlock() {
        try (BumpArena arena = BumpArena.of(parent, 1024)) {
            arena.alloc(8, 1); // takes a chunk (a 1 KiB Smalloc slot: 1 KiB aligned)
            arena.reset();     // keeps it: the top is back at its aligned start
            long block = arena.alloc(54, 1024); // 54 + 1023 > 1024 bytes, yet it fits right here
            assertNotEquals(0, block);
            assertEquals(0, block & 1023);
            arena.alloc(8, 1); // no longer the last block: no roll back
            assertDoesNotThrow(() -> arena.dealloc(block, 54, 1024), "seed 30 of the contract's random test");
        }
    }
}
