package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.smalloc4j.Patterns.assertNamesAddress;
import static org.smalloc4j.Patterns.hex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input at scale (issue 6, part 3): a seeded random fuzz test that interleaves valid work (blocks
 * filled with a pattern, checked before they are freed) with hostile calls on the public API of
 * {@link Smalloc#global()}, a checked builder heap, a {@link TrackingAllocator} and a
 * {@link BumpArena}. Every bad call must get the documented exception ({@link IllegalArgumentException}
 * for bad input, {@link IllegalStateException} once closed, 0 or {@link OutOfMemoryError} for a legal
 * but unsatisfiable request), a rejected call changes no figure of the tracker, and every valid block
 * keeps its content. Every {@link Kind} of bad input must be tried at least once.
 *
 * <p>The default run makes {@value #DEFAULT_CALLS} calls. Rerun a failure with
 * {@code -Dsmalloc4j.seed=<seed>} (the seed is in the failure message); make a long run with
 * {@code -Dsmalloc4j.fuzz.calls=10000000}, or run the {@code slow} test (ten million calls):
 * {@code ./mvnw -pl core test -Dexcluded.groups= -Dgroups=slow -Dtest=HostileInputTest}.
 */
class HostileInputTest {

    private static final int DEFAULT_CALLS = 60_000;
    private static final int SLOW_CALLS = 10_000_000;
    private static final int MAX_LIVE = 256;

    /** The kinds of bad input; each is tried at least once per run. */
    enum Kind {
        NEGATIVE_SIZE,                    // alloc, allocZeroed, allocate of -n
        NEGATIVE_SIZE_TO_DEALLOC,         // dealloc of a live block with a negative size: rejected, block kept
        NEGATIVE_OLD_SIZE_TO_REALLOC,
        NEGATIVE_NEW_SIZE_TO_REALLOC,     // realloc and reallocate
        ZERO_ALIGNMENT,
        NEGATIVE_ALIGNMENT,
        ALIGNMENT_NOT_A_POWER_OF_TWO,
        ALIGNMENT_2_POW_63,               // Long.MIN_VALUE: negative, bad input
        ALIGNMENT_2_POW_62,               // legal, unsatisfiable: exhaustion
        ALIGNMENT_ABOVE_LARGEST_SLOT,     // legal, unsatisfiable on Smalloc: exhaustion
        SIZE_NEAR_LONG_MAX,               // alloc, allocZeroed, allocate: exhaustion
        REALLOC_TO_SIZE_NEAR_LONG_MAX,    // exhaustion, the block stays intact
        ADDRESS_OUTSIDE_THE_HEAP,         // dealloc, realloc, usableSize, contains of a random address
        UNALIGNED_ADDRESS_INSIDE_THE_HEAP,
        INTERIOR_POINTER,                 // of a live block: dealloc, realloc, usableSize
        FOREIGN_POINTER_TO_REALLOC,       // a libc block and a block of another heap
        DOUBLE_FREE_CHECKED,
        NEVER_ALLOCATED_SLOT_CHECKED,
        STALE_POINTER_AFTER_MOVING_REALLOC_CHECKED,
        SIZE_LARGER_THAN_THE_SLOT_CHECKED,
        HEAP_SEGMENT_TO_FREE,
        HEAP_SEGMENT_TO_REALLOCATE,
        SEGMENT_OF_ANOTHER_ALLOCATOR_TO_FREE,
        SEGMENT_OF_ANOTHER_ALLOCATOR_TO_REALLOCATE,
        SLICE_OF_A_SEGMENT_TO_FREE,        // an interior slice of a live segment
        DEAD_SEGMENT_TO_BUMP_ARENA,        // a segment of a reset generation
        USABLE_SIZE_AND_CONTAINS_OF_JUNK,
        USE_AFTER_CLOSE_OF_A_HEAP,         // every method of a closed builder heap
        USE_AFTER_CLOSE_OF_A_TRACKER,
        USE_AFTER_CLOSE_OF_A_BUMP_ARENA,
        SEGMENT_OF_A_CLOSED_HEAP,          // touching it
    }

    /** A valid block, filled with the pattern of {@code seed}. */
    private record Block(NativeAllocator owner, long address, long byteSize, long byteAlignment, long seed) {
    }

    @Test
    void hostileCallsGetTheDocumentedExceptionAndValidBlocksKeepTheirContent() {
        run(Long.getLong("smalloc4j.fuzz.calls", DEFAULT_CALLS));
    }

    @Test
    @Tag("slow")
    void tenMillionHostileAndValidCalls() {
        run(Long.getLong("smalloc4j.fuzz.calls", SLOW_CALLS));
    }

    private static void run(long calls) {
        long seed = Long.getLong("smalloc4j.seed", System.nanoTime());
        Fuzz fuzz = new Fuzz(seed);
        try {
            fuzz.run(calls);
        } catch (Throwable failure) {
            throw new AssertionError("HostileInputTest failed at call " + fuzz.call + " (kind " + fuzz.lastKind
                    + "); rerun with -Dsmalloc4j.seed=" + seed + ": " + failure, failure);
        } finally {
            fuzz.close();
        }
        Set<Kind> missing = new HashSet<>(List.of(Kind.values()));
        missing.removeAll(fuzz.tried.keySet());
        assertTrue(missing.isEmpty(), "kinds never tried (seed " + seed + "): " + missing);
        long hostile = fuzz.tried.values().stream().mapToLong(Long::longValue).sum();
        System.out.println("HostileInputTest: seed " + seed + ", " + fuzz.tried.size() + " kinds of bad input, "
                + fuzz.call + " calls (" + hostile + " hostile, " + (fuzz.call - hostile) + " valid), "
                + fuzz.checks + " pattern checks, 0 corrupted blocks");
    }

    private static final class Fuzz {
        final SplittableRandom random;
        final Map<Kind, Long> tried = new EnumMap<>(Kind.class);
        final List<Block> live = new ArrayList<>();
        final Smalloc global = Smalloc.global();
        final Smalloc checked = Smalloc.builder().name("hostile-checked").checked(true)
                .slabsPerClass(4).slabBytes(1L << 22).largestSlot(1L << 20).build();
        final Smalloc trackedHeap = Smalloc.builder().name("hostile-tracked").slabsPerClass(2).slabBytes(1L << 22)
                .largestSlot(1L << 20).build();
        final TrackingAllocator tracking = TrackingAllocator.of(trackedHeap);
        final BumpArena bump = BumpArena.of(global, 8192); // not on the checked heap: its chunks would be live slots unlisted here
        final SystemAllocator libc = new SystemAllocator();
        final NativeAllocator[] allocators = {global, checked, tracking, bump};
        final Smalloc[] heaps = {global, checked, trackedHeap};
        long call;
        long checks;
        Kind lastKind;

        Fuzz(long seed) {
            random = new SplittableRandom(seed);
        }

        void close() {
            for (Block block : live) {
                if (block.owner() != bump) {
                    block.owner().dealloc(block.address(), block.byteSize(), block.byteAlignment());
                }
            }
            live.clear();
            bump.close();
            tracking.close();
            trackedHeap.close();
            checked.close();
        }

        void run(long calls) {
            for (call = 0; call < calls; call++) {
                lastKind = null;
                int dice = random.nextInt(100);
                if (dice < 25) {
                    allocateValid();
                } else if (dice < 40) {
                    freeValid();
                } else if (dice < 48) {
                    reallocValid();
                } else {
                    Kind[] kinds = Kind.values();
                    Kind kind = call < kinds.length ? kinds[(int) call] : kinds[random.nextInt(kinds.length)];
                    lastKind = kind;
                    hostile(kind);
                    tried.merge(kind, 1L, Long::sum);
                }
                if (call % 4096 == 0) {
                    checkAll();
                }
                if (random.nextInt(20_000) == 0) {
                    resetBump();
                }
            }
            checkAll();
        }

        // ------------------------------------------------------------ valid work

        NativeAllocator anyAllocator() {
            return allocators[random.nextInt(allocators.length)];
        }

        long validSize() {
            int shape = random.nextInt(10);
            return shape < 6 ? random.nextLong(0, 129) : shape < 9 ? random.nextLong(0, 4097) : random.nextLong(0, 70_000);
        }

        long validAlignment() {
            return 1L << random.nextInt(random.nextInt(8) == 0 ? 13 : 5);
        }

        void allocateValid() {
            if (live.size() >= MAX_LIVE) {
                freeValid();
                return;
            }
            NativeAllocator owner = anyAllocator();
            long byteSize = validSize();
            long byteAlignment = validAlignment();
            long address = random.nextBoolean() ? owner.alloc(byteSize, byteAlignment)
                    : owner.allocZeroed(byteSize, byteAlignment);
            if (address == 0) {
                return; // the small heaps may be full: exhaustion is allowed
            }
            assertEquals(0, address & (byteAlignment - 1), "alignment of " + hex(address));
            long seed = random.nextLong();
            Patterns.fill(address, byteSize, seed);
            live.add(new Block(owner, address, byteSize, byteAlignment, seed));
        }

        Block anyBlock() {
            return live.isEmpty() ? null : live.get(random.nextInt(live.size()));
        }

        void check(Block block, String when) {
            Patterns.check(block.address(), block.byteSize(), block.seed(),
                    "block " + hex(block.address()) + " of " + block.owner().name() + " " + when);
            checks++;
        }

        void checkAll() {
            for (Block block : live) {
                check(block, "at call " + call);
            }
        }

        void freeValid() {
            if (live.isEmpty()) {
                return;
            }
            Block block = live.remove(random.nextInt(live.size()));
            check(block, "before its free");
            block.owner().dealloc(block.address(), block.byteSize(), block.byteAlignment());
        }

        void reallocValid() {
            if (live.isEmpty()) {
                return;
            }
            int index = random.nextInt(live.size());
            Block block = live.get(index);
            long newSize = validSize();
            long moved = block.owner().realloc(block.address(), block.byteSize(), block.byteAlignment(), newSize);
            if (moved == 0) {
                check(block, "after a failed realloc");
                return;
            }
            Patterns.check(moved, Math.min(block.byteSize(), newSize), block.seed(), "realloc kept the content");
            long seed = random.nextLong();
            Patterns.fill(moved, newSize, seed);
            live.set(index, new Block(block.owner(), moved, newSize, block.byteAlignment(), seed));
        }

        void resetBump() {
            live.removeIf(block -> block.owner() == bump);
            bump.reset();
        }

        /** A live block of one of {@code owners}, or a new one (null when none can be made). */
        Block blockOf(NativeAllocator... owners) {
            for (int attempt = 0; attempt < 8 && !live.isEmpty(); attempt++) {
                Block block = anyBlock();
                for (NativeAllocator owner : owners) {
                    if (block.owner() == owner) {
                        return block;
                    }
                }
            }
            NativeAllocator owner = owners[random.nextInt(owners.length)];
            long byteSize = random.nextLong(1, 200);
            long address = owner.alloc(byteSize, 8);
            if (address == 0) {
                return null;
            }
            Block block = new Block(owner, address, byteSize, 8, random.nextLong());
            Patterns.fill(address, byteSize, block.seed());
            live.add(block);
            return block;
        }

        // ------------------------------------------------------------ hostile calls

        void rejected(Executable call, NativeAllocator target) {
            Figures before = target == tracking ? Figures.of(tracking) : null;
            assertThrows(IllegalArgumentException.class, call);
            if (before != null) {
                assertEquals(before, Figures.of(tracking), "a rejected call changed a figure of the tracker");
            }
        }

        void rejectedNamingAddress(Executable call, NativeAllocator target, long address) {
            Figures before = target == tracking ? Figures.of(tracking) : null;
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, call);
            assertNamesAddress(thrown, address);
            if (before != null) {
                assertEquals(before, Figures.of(tracking), "a rejected call changed a figure of the tracker");
            }
        }

        /** A legal request that cannot be met: 0 from the raw layer, OutOfMemoryError naming allocator and size. */
        void exhausted(NativeAllocator target, long byteSize, long byteAlignment) {
            assertEquals(0, target.alloc(byteSize, byteAlignment), "alloc(" + byteSize + ", " + byteAlignment + ")");
            assertEquals(0, target.allocZeroed(byteSize, byteAlignment));
            OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> target.allocate(byteSize, byteAlignment));
            assertTrue(error.getMessage().contains(target.name()) && error.getMessage().contains(Long.toString(byteSize)),
                    error::getMessage);
        }

        long badAlignment(Kind kind) {
            return switch (kind) {
                case ZERO_ALIGNMENT -> 0;
                case NEGATIVE_ALIGNMENT -> -(1L << random.nextInt(63)) - random.nextInt(2);
                case ALIGNMENT_2_POW_63 -> Long.MIN_VALUE;
                default -> {
                    long alignment;
                    do {
                        alignment = random.nextInt(4) == 0 ? random.nextLong(3, Long.MAX_VALUE) : random.nextLong(3, 1 << 20);
                    } while (Long.bitCount(alignment) == 1);
                    yield alignment;
                }
            };
        }

        /** A random address outside every heap of this test (and not NULL). */
        long outsideAddress(Smalloc heap) {
            for (;;) {
                long address = switch (random.nextInt(4)) {
                    case 0 -> random.nextLong();
                    case 1 -> heapBase(heap) - random.nextLong(1, 1L << 30);
                    case 2 -> heapBase(heap) + heap.reservedBytes() + random.nextLong(0, 1L << 30);
                    default -> libcAddress();
                };
                if (address != 0 && !heap.contains(address)) {
                    return address;
                }
            }
        }

        long libcAddress() {
            long address = libc.alloc(64, 16);
            libc.dealloc(address, 64, 16);
            return address;
        }

        final Map<Smalloc, Long> bases = new java.util.IdentityHashMap<>();

        long heapBase(Smalloc heap) {
            return bases.computeIfAbsent(heap, Fuzz::baseOf);
        }

        /** The start of a heap's reservation, which is aligned to its size. */
        static long baseOf(Smalloc heap) {
            long address = heap.alloc(1, 1);
            long base = address & -heap.reservedBytes(); // the reservation is aligned to its size
            heap.dealloc(address, 1, 1);
            assertTrue(heap.contains(base) && !heap.contains(base - 1), "base " + hex(base));
            return base;
        }

        void hostile(Kind kind) {
            switch (kind) {
                case NEGATIVE_SIZE -> {
                    NativeAllocator target = anyAllocator();
                    long size = -random.nextLong(1, Long.MAX_VALUE) - random.nextInt(2);
                    rejected(() -> target.alloc(size, 8), target);
                    rejected(() -> target.allocZeroed(size, 1), target);
                    rejected(() -> target.allocate(size, 16), target);
                    rejected(() -> target.allocate(size), target);
                }
                case NEGATIVE_SIZE_TO_DEALLOC -> {
                    NativeAllocator target = anyAllocator();
                    Block block = blockOf(target);
                    if (block != null) {
                        rejected(() -> target.dealloc(block.address(), -random.nextLong(1, Long.MAX_VALUE), 8), target);
                        check(block, "after a rejected dealloc");
                    }
                    rejected(() -> target.dealloc(0, -1, 8), target);
                }
                case NEGATIVE_OLD_SIZE_TO_REALLOC, NEGATIVE_NEW_SIZE_TO_REALLOC -> {
                    NativeAllocator target = anyAllocator();
                    Block block = blockOf(target);
                    long negative = -random.nextLong(1, Long.MAX_VALUE);
                    boolean old = kind == Kind.NEGATIVE_OLD_SIZE_TO_REALLOC;
                    if (block != null) {
                        rejected(() -> target.realloc(block.address(), old ? negative : block.byteSize(), block.byteAlignment(),
                                old ? 8 : negative), target);
                        check(block, "after a rejected realloc");
                    }
                    rejected(() -> target.realloc(0, old ? negative : 0, 8, old ? 8 : negative), target);
                    if (!old) {
                        MemorySegment segment = target.allocate(24, 8);
                        rejected(() -> target.reallocate(segment, negative), target);
                        rejected(() -> target.reallocate(segment, negative, 8), target);
                        target.free(segment);
                    }
                }
                case ZERO_ALIGNMENT, NEGATIVE_ALIGNMENT, ALIGNMENT_NOT_A_POWER_OF_TWO, ALIGNMENT_2_POW_63 -> {
                    NativeAllocator target = anyAllocator();
                    long alignment = badAlignment(kind);
                    long size = validSize();
                    rejected(() -> target.alloc(size, alignment), target);
                    rejected(() -> target.allocZeroed(size, alignment), target);
                    rejected(() -> target.allocate(size, alignment), target);
                    rejected(() -> target.realloc(0, 0, alignment, size), target);
                    Block block = blockOf(target);
                    if (block != null) {
                        rejected(() -> target.dealloc(block.address(), block.byteSize(), alignment), target);
                        rejected(() -> target.realloc(block.address(), block.byteSize(), alignment, size), target);
                        check(block, "after calls with alignment " + alignment);
                    }
                    MemorySegment segment = target.allocate(40, 8);
                    rejected(() -> target.reallocate(segment, size, alignment), target);
                    target.free(segment);
                }
                case ALIGNMENT_2_POW_62 -> exhausted(anyAllocator(), random.nextLong(0, 100), 1L << 62);
                case ALIGNMENT_ABOVE_LARGEST_SLOT -> {
                    Smalloc heap = heaps[random.nextInt(heaps.length)];
                    NativeAllocator target = heap == trackedHeap ? tracking : heap;
                    long alignment = heap.largestSlot() << random.nextInt(1, 62 - Long.numberOfTrailingZeros(heap.largestSlot()));
                    exhausted(target, random.nextLong(0, 100), alignment);
                }
                case SIZE_NEAR_LONG_MAX -> {
                    NativeAllocator target = anyAllocator();
                    exhausted(target, Long.MAX_VALUE - random.nextLong(0, 1 << 20), 1L << random.nextInt(13));
                    if (target instanceof Smalloc heap) {
                        exhausted(target, heap.largestSlot() + 1, 1);
                    }
                }
                case REALLOC_TO_SIZE_NEAR_LONG_MAX -> {
                    NativeAllocator target = anyAllocator();
                    Block block = blockOf(target);
                    long huge = Long.MAX_VALUE - random.nextLong(0, 1 << 20);
                    if (block != null) {
                        assertEquals(0, target.realloc(block.address(), block.byteSize(), block.byteAlignment(), huge));
                        check(block, "after a failed realloc to " + huge);
                    }
                    MemorySegment segment = target.allocate(48, 8);
                    Patterns.fill(segment, 48);
                    OutOfMemoryError error = assertThrows(OutOfMemoryError.class, () -> target.reallocate(segment, huge));
                    assertTrue(error.getMessage().contains(Long.toString(huge)), error::getMessage);
                    Patterns.check(segment, 48, "a segment after a failed reallocate");
                    target.free(segment);
                }
                case ADDRESS_OUTSIDE_THE_HEAP -> {
                    int which = random.nextInt(heaps.length);
                    Smalloc heap = heaps[which];
                    NativeAllocator target = heap == trackedHeap ? tracking : heap;
                    long address = outsideAddress(heap);
                    rejectedNamingAddress(() -> target.dealloc(address, random.nextLong(0, 4096), 1), target, address);
                    rejectedNamingAddress(() -> target.realloc(address, random.nextLong(0, 4096), 1, 64), target, address);
                    rejectedNamingAddress(() -> heap.usableSize(address), heap, address);
                    assertFalse(heap.contains(address));
                }
                case UNALIGNED_ADDRESS_INSIDE_THE_HEAP -> {
                    Smalloc heap = heaps[random.nextInt(heaps.length)];
                    NativeAllocator target = heap == trackedHeap ? tracking : heap;
                    // slots are at least 4 bytes and aligned to their size: an address not 4-aligned starts none
                    long address = (heapBase(heap) + random.nextLong(heap.reservedBytes())) & ~3L | random.nextLong(1, 4);
                    assertTrue(heap.contains(address));
                    rejectedNamingAddress(() -> target.dealloc(address, random.nextLong(0, 4), 1), target, address);
                    rejectedNamingAddress(() -> target.realloc(address, random.nextLong(0, 4), 1, 64), target, address);
                    rejectedNamingAddress(() -> heap.usableSize(address), heap, address);
                }
                case INTERIOR_POINTER -> {
                    Smalloc heap = heaps[random.nextInt(heaps.length)];
                    NativeAllocator target = heap == trackedHeap ? tracking : heap;
                    Block block = blockOf(target);
                    if (block == null) {
                        return;
                    }
                    long slot = heap.usableSize(block.address());
                    long address = block.address() + random.nextLong(1, slot);
                    rejectedNamingAddress(() -> target.dealloc(address, 1, 1), target, address);
                    rejectedNamingAddress(() -> target.realloc(address, 1, 1, slot * 2), target, address);
                    rejectedNamingAddress(() -> heap.usableSize(address), heap, address);
                    check(block, "after calls with an interior pointer " + hex(address));
                }
                case FOREIGN_POINTER_TO_REALLOC -> {
                    Smalloc heap = heaps[random.nextInt(heaps.length)];
                    NativeAllocator target = heap == trackedHeap ? tracking : heap;
                    long foreign = libc.alloc(64, 16);
                    Patterns.fill(foreign, 64, 7);
                    rejectedNamingAddress(() -> target.realloc(foreign, 64, 16, 128), target, foreign);
                    Patterns.check(foreign, 64, 7, "a libc block after a rejected realloc");
                    libc.dealloc(foreign, 64, 16);
                    Smalloc other = heap == global ? checked : global;
                    Block block = blockOf(other);
                    if (block != null) {
                        rejectedNamingAddress(() -> target.realloc(block.address(), block.byteSize(), block.byteAlignment(), 256),
                                target, block.address());
                        check(block, "a block of another heap after a rejected realloc");
                    }
                }
                case DOUBLE_FREE_CHECKED -> {
                    long byteSize = validSize();
                    long address = checked.alloc(byteSize, 8);
                    if (address == 0) {
                        return;
                    }
                    checked.dealloc(address, byteSize, 8);
                    rejectedNamingAddress(() -> checked.dealloc(address, byteSize, 8), checked, address);
                    rejectedNamingAddress(() -> checked.realloc(address, byteSize, 8, byteSize + 1), checked, address);
                }
                case NEVER_ALLOCATED_SLOT_CHECKED -> {
                    long address = notLiveSlotOfChecked();
                    if (address != 0) {
                        rejectedNamingAddress(() -> checked.dealloc(address, 1, 1), checked, address);
                        rejectedNamingAddress(() -> checked.realloc(address, 1, 1, 8), checked, address);
                    }
                }
                case STALE_POINTER_AFTER_MOVING_REALLOC_CHECKED -> {
                    long address = checked.alloc(16, 8);
                    if (address == 0) {
                        return;
                    }
                    Patterns.fill(address, 16, 3);
                    long moved = checked.realloc(address, 16, 8, 4096);
                    if (moved == 0) {
                        checked.dealloc(address, 16, 8);
                        return;
                    }
                    assertNotEquals(address, moved);
                    rejectedNamingAddress(() -> checked.dealloc(address, 16, 8), checked, address);
                    Patterns.check(moved, 16, 3, "the moved block after its stale pointer was freed");
                    checked.dealloc(moved, 4096, 8);
                }
                case SIZE_LARGER_THAN_THE_SLOT_CHECKED -> {
                    Block block = blockOf(checked);
                    if (block != null) {
                        long slot = checked.usableSize(block.address());
                        rejectedNamingAddress(() -> checked.dealloc(block.address(), slot + random.nextLong(1, 1 << 20), 1),
                                checked, block.address());
                        check(block, "after a dealloc with a size larger than its slot");
                    }
                }
                case HEAP_SEGMENT_TO_FREE -> {
                    NativeAllocator target = anyAllocator();
                    MemorySegment onHeap = random.nextBoolean() ? MemorySegment.ofArray(new byte[random.nextInt(64)])
                            : MemorySegment.ofArray(new long[1 + random.nextInt(8)]);
                    rejected(() -> target.free(onHeap), target);
                }
                case HEAP_SEGMENT_TO_REALLOCATE -> {
                    NativeAllocator target = anyAllocator();
                    MemorySegment onHeap = MemorySegment.ofArray(new int[1 + random.nextInt(16)]);
                    rejected(() -> target.reallocate(onHeap, random.nextLong(0, 1000)), target);
                    rejected(() -> target.reallocate(onHeap, 8, 8), target);
                }
                case SEGMENT_OF_ANOTHER_ALLOCATOR_TO_FREE, SEGMENT_OF_ANOTHER_ALLOCATOR_TO_REALLOCATE -> {
                    // Smalloc can always tell (one contiguous range), and so a tracker over it
                    Smalloc heap = heaps[random.nextInt(heaps.length)];
                    NativeAllocator target = heap == trackedHeap ? tracking : heap;
                    NativeAllocator[] others = {libc, global, checked, trackedHeap};
                    NativeAllocator other;
                    do {
                        other = others[random.nextInt(others.length)];
                    } while (other == heap);
                    MemorySegment segment = other.allocate(random.nextLong(1, 512), 8);
                    Patterns.fill(segment, 11);
                    if (kind == Kind.SEGMENT_OF_ANOTHER_ALLOCATOR_TO_FREE) {
                        rejectedNamingAddress(() -> target.free(segment), target, segment.address());
                    } else {
                        rejectedNamingAddress(() -> target.reallocate(segment, 1024), target, segment.address());
                    }
                    Patterns.check(segment, 11, "a segment of " + other.name() + " after a rejected call");
                    other.free(segment);
                }
                case SLICE_OF_A_SEGMENT_TO_FREE -> {
                    Smalloc heap = heaps[random.nextInt(heaps.length)];
                    NativeAllocator target = heap == trackedHeap ? tracking : heap;
                    MemorySegment segment = target.allocate(random.nextLong(2, 2048), 8);
                    Patterns.fill(segment, 5);
                    long offset = random.nextLong(1, segment.byteSize());
                    MemorySegment slice = segment.asSlice(offset);
                    rejectedNamingAddress(() -> target.free(slice), target, slice.address());
                    rejectedNamingAddress(() -> target.reallocate(slice, 4096), target, slice.address());
                    Patterns.check(segment, 5, "a segment after its slice was refused");
                    target.free(segment);
                }
                case DEAD_SEGMENT_TO_BUMP_ARENA -> {
                    MemorySegment segment = bump.allocate(random.nextLong(1, 100), 8);
                    resetBump();
                    assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
                    rejectedNamingAddress(() -> bump.free(segment), bump, segment.address());
                    rejectedNamingAddress(() -> bump.reallocate(segment, 64), bump, segment.address());
                }
                case USABLE_SIZE_AND_CONTAINS_OF_JUNK -> {
                    Smalloc heap = heaps[random.nextInt(heaps.length)];
                    long base = heapBase(heap);
                    long inside = base + random.nextLong(heap.reservedBytes());
                    assertTrue(heap.contains(inside), hex(inside));
                    assertTrue(heap.contains(base + heap.reservedBytes() - 1));
                    assertFalse(heap.contains(base + heap.reservedBytes()));
                    assertFalse(heap.contains(0));
                    long outside = outsideAddress(heap);
                    assertFalse(heap.contains(outside));
                    rejectedNamingAddress(() -> heap.usableSize(outside), heap, outside);
                    rejected(() -> heap.usableSize(0), heap);
                    if ((inside & 3) != 0) {
                        rejectedNamingAddress(() -> heap.usableSize(inside), heap, inside);
                    }
                }
                case USE_AFTER_CLOSE_OF_A_HEAP -> useAfterCloseOfAHeap();
                case USE_AFTER_CLOSE_OF_A_TRACKER -> {
                    TrackingAllocator closedTracker = TrackingAllocator.of(random.nextBoolean() ? global : checked);
                    long address = closedTracker.alloc(32, 8);
                    Patterns.fill(address, 32, 9);
                    closedTracker.close();
                    everyMethodThrowsIllegalState(closedTracker, address, 32);
                    Patterns.check(address, 32, 9, "a block of a closed tracker: the inner heap stays open");
                    closedTracker.inner().dealloc(address, 32, 8);
                }
                case USE_AFTER_CLOSE_OF_A_BUMP_ARENA -> {
                    BumpArena arena = BumpArena.of(random.nextBoolean() ? global : checked, 4096);
                    MemorySegment segment = arena.allocate(100);
                    arena.close();
                    everyMethodThrowsIllegalState(arena, segment.address(), 100);
                    assertThrows(IllegalStateException.class, arena::reset);
                    assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
                }
                case SEGMENT_OF_A_CLOSED_HEAP -> {
                    Smalloc heap = Smalloc.builder().slabsPerClass(1).slabBytes(1 << 16).largestSlot(1 << 12).build();
                    MemorySegment segment = heap.allocate(random.nextLong(1, 4096));
                    MemorySegment zeroSized = heap.allocate(0);
                    heap.close();
                    assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
                    assertThrows(IllegalStateException.class, () -> segment.set(ValueLayout.JAVA_BYTE, segment.byteSize() - 1, (byte) 1));
                    assertThrows(IllegalStateException.class, () -> segment.fill((byte) 0));
                    assertFalse(zeroSized.scope().isAlive());
                }
            }
        }

        /** A slot-aligned address of the checked heap that is not live (0 if none was found). */
        long notLiveSlotOfChecked() {
            Set<Long> liveInChecked = new HashSet<>();
            for (Block block : live) {
                if (block.owner() == checked) {
                    liveInChecked.add(block.address());
                }
            }
            long base = heapBase(checked);
            for (int attempt = 0; attempt < 100; attempt++) {
                // any class's slot in any slab: slots are aligned to their size
                int sizeClass = random.nextInt(2, 21);
                long address = base + (random.nextLong(checked.reservedBytes()) & -(1L << sizeClass));
                if (!liveInChecked.contains(address)) {
                    return address;
                }
            }
            return 0;
        }

        void useAfterCloseOfAHeap() {
            Smalloc heap = Smalloc.builder().name("closed-" + call).checked(random.nextBoolean())
                    .slabsPerClass(1).slabBytes(1 << 16).largestSlot(1 << 12).build();
            long address = heap.alloc(64, 8);
            long base = address & -heap.reservedBytes();
            heap.close();
            everyMethodThrowsIllegalState(heap, address, 64);
            assertThrows(IllegalStateException.class, () -> heap.usableSize(address));
            assertThrows(IllegalStateException.class, heap::stats);
            assertFalse(heap.contains(address), "contains after close");
            assertFalse(heap.contains(base));
            heap.close(); // a no-op the second time
        }

        void everyMethodThrowsIllegalState(NativeAllocator closed, long address, long byteSize) {
            MemorySegment foreign = libc.allocate(16);
            try {
                List<Executable> calls = List.of(
                        () -> closed.alloc(8, 8),
                        () -> closed.alloc(0, 1),
                        () -> closed.allocZeroed(8, 8),
                        () -> closed.dealloc(address, byteSize, 8),
                        () -> closed.dealloc(0, 0, 1),
                        () -> closed.realloc(address, byteSize, 8, 128),
                        () -> closed.realloc(0, 0, 8, 128),
                        () -> closed.allocate(8),
                        () -> closed.allocate(8, 8),
                        () -> closed.free(foreign),
                        () -> closed.reallocate(foreign, 32),
                        () -> closed.reallocate(foreign, 32, 8),
                        () -> closed.reallocate(MemorySegment.NULL, 32),
                        () -> closed.newArena(),
                        () -> closed.asSegment(address, byteSize));
                for (int i = 0; i < calls.size(); i++) {
                    IllegalStateException thrown = assertThrows(IllegalStateException.class, calls.get(i),
                            "call " + i + " after close() of " + closed);
                    assertTrue(thrown.getMessage().contains("closed"), thrown::getMessage);
                }
                closed.close(); // a no-op the second time
            } finally {
                libc.free(foreign);
            }
        }
    }

    /** Every figure of a tracker at one moment. */
    private record Figures(long live, long peak, long allocated, long freed, long allocations, long frees,
                           long reallocs, long failed, List<Long> histogram) {
        static Figures of(TrackingAllocator tracking) {
            List<Long> histogram = new ArrayList<>();
            for (long count : tracking.histogram()) {
                histogram.add(count);
            }
            return new Figures(tracking.liveBytes(), tracking.peakBytes(), tracking.allocatedBytes(),
                    tracking.freedBytes(), tracking.allocationCount(), tracking.freeCount(), tracking.reallocCount(),
                    tracking.failedCount(), histogram);
        }
    }

}
