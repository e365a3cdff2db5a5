package org.smalloc4j.tools.bench;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SystemAllocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The workloads run clean on real allocators and catch an allocator that loses content. */
class MixedWorkloadTest {

    private static final BenchSettings TINY = new BenchSettings(Duration.ZERO, Duration.ZERO, 5_000, 2, 7);

    /** Returns a fresh block on every realloc without copying: the content is lost. */
    private static final class ForgetfulAllocator implements NativeAllocator {
        private final SystemAllocator system = new SystemAllocator();

        @Override
        public long alloc(long byteSize, long byteAlignment) {
            return system.alloc(byteSize, byteAlignment);
        }

        @Override
        public void dealloc(long address, long byteSize, long byteAlignment) {
            system.dealloc(address, byteSize, byteAlignment);
        }

        @Override
        public long realloc(long address, long oldSize, long byteAlignment, long newSize) {
            long moved = system.allocZeroed(newSize, byteAlignment);
            system.dealloc(address, oldSize, byteAlignment);
            return moved;
        }

        @Override
        public String name() {
            return "forgetful";
        }
    }

    @Test
    void mixedRunsCleanOnSmallocAndSystem() {
        for (NativeAllocator allocator : new NativeAllocator[] {Smalloc.global(), new SystemAllocator()}) {
            for (int threads = 1; threads <= 2; threads++) {
                Measurement m = CaseRunner.measure(new MixedWorkload(200), allocator, threads, TINY);
                assertEquals(2, m.roundNsPerOp().length);
                assertTrue(m.nsPerOp() > 0, allocator.name());
            }
        }
    }

    @Test
    void pairsRunCleanAtEverySize() {
        for (long size : new long[] {1, 16, 4096, 1 << 20}) {
            Measurement m = CaseRunner.measure(new AllocFreePairs(size), Smalloc.global(), 2, TINY);
            assertTrue(m.nsPerOp() > 0);
        }
    }

    @Test
    void aDamagedBlockFailsTheRun() {
        BenchFailure failure = assertThrows(BenchFailure.class,
                () -> CaseRunner.measure(new MixedWorkload(200), new ForgetfulAllocator(), 2, TINY));
        assertTrue(failure.getMessage().contains("allocator 'forgetful'") && failure.getMessage().contains("after realloc"),
                failure.getMessage());
    }

    @Test
    void theSameSeedGivesTheSamePlan() {
        var a = new java.util.SplittableRandom(TINY.threadSeed(0));
        var b = new java.util.SplittableRandom(TINY.threadSeed(0));
        for (int i = 0; i < 1000; i++) {
            assertEquals(MixedWorkload.drawSize(a), MixedWorkload.drawSize(b));
        }
        assertTrue(TINY.threadSeed(0) != TINY.threadSeed(1));
    }

    @Test
    void sizesStayInTheMix() {
        var random = new java.util.SplittableRandom(1);
        int large = 0;
        for (int i = 0; i < 100_000; i++) {
            int size = MixedWorkload.drawSize(random);
            assertTrue(size >= MixedWorkload.MIN_SIZE && size <= MixedWorkload.LARGE_MAX, "size " + size);
            if (size > MixedWorkload.MEDIUM_MAX) {
                large++;
            }
        }
        assertTrue(large > 500 && large < 1500, "about 1% large, got " + large);
    }

    @Test
    void medianAndSpread() {
        Measurement m = new Measurement(new AllocFreePairs(16), "smalloc", 1, new double[] {30, 10, 20});
        assertEquals(20, m.nsPerOp());
        assertEquals(1.0, m.spread());
    }
}
