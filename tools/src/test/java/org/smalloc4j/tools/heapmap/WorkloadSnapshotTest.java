package org.smalloc4j.tools.heapmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.tools.bench.BenchFailure;
import org.smalloc4j.tools.bench.Workload;
import org.smalloc4j.tools.bench.Workloads;

/** Snapshots of a heap in the middle of a workload: live blocks seen, all freed afterwards, failures reported. */
class WorkloadSnapshotTest {

    /** Room for the demo's 2 MiB blocks: 4 slabs of 256 MiB per class. */
    private static Smalloc heap() {
        return Smalloc.builder().name("snapshot").slabsPerClass(4).slabBytes(1L << 28).largestSlot(1L << 22).build();
    }

    @Test
    void theDemoIsCaughtWithItsBlocksLiveAndFreesThemAfterwards() {
        try (Smalloc heap = heap()) {
            SmallocStats stats = WorkloadSnapshot.take(new DemoWorkload(), heap, 2, 3_000, 42);
            assertEquals("snapshot", stats.heapName());
            // about half of each thread's window is live
            assertTrue(stats.slotsInUse() > DemoWorkload.WINDOW / 2 && stats.slotsInUse() < 2 * DemoWorkload.WINDOW,
                    "live blocks: " + stats.slotsInUse());
            long classesInUse = stats.classes().stream().filter(c -> c.slotsInUse() > 0).count();
            assertTrue(classesInUse >= 10, "the demo spans many classes: " + classesInUse);
            assertTrue(stats.classes().stream().anyMatch(c -> c.slotsTouched() > c.slotsInUse()), "some slots were freed");
            assertEquals(0, heap.stats().slotsInUse(), "every block was freed after the snapshot");
        }
    }

    @Test
    void theSameSeedGivesTheSameSnapshotOnOneThread() {
        SmallocStats first;
        SmallocStats second;
        try (Smalloc heap = heap()) {
            first = WorkloadSnapshot.take(new DemoWorkload(), heap, 1, 2_000, 7);
        }
        try (Smalloc heap = heap()) {
            second = WorkloadSnapshot.take(new DemoWorkload(), heap, 1, 2_000, 7);
        }
        for (int i = 0; i < first.classes().size(); i++) {
            assertEquals(first.classes().get(i).slotsInUse(), second.classes().get(i).slotsInUse(), "class " + i);
            assertEquals(first.classes().get(i).slotsTouched(), second.classes().get(i).slotsTouched(), "class " + i);
        }
    }

    @Test
    void benchWorkloadsWithSharedStateWork() {
        for (String name : List.of("mixed", "larson", "xmalloc")) {
            Workload workload = Workloads.create(List.of(name), List.of(64L), 100).getFirst();
            try (Smalloc heap = heap()) {
                SmallocStats stats = WorkloadSnapshot.take(workload, heap, 2, 2_000, 1);
                assertTrue(stats.slotsInUse() > 0, name + " holds blocks at the snapshot");
                assertEquals(0, heap.stats().slotsInUse(), name + " freed them all afterwards");
            }
        }
    }

    @Test
    void aFailingWorkerFailsTheSnapshotAndTheOthersStillFreeTheirBlocks() {
        DemoWorkload demo = new DemoWorkload();
        Workload failing = new Workload() {
            @Override
            public String name() {
                return "failing-demo";
            }

            @Override
            public String sizeLabel() {
                return demo.sizeLabel();
            }

            @Override
            public String description() {
                return "the demo, with thread 1 failing after its operations";
            }

            @Override
            public Case newCase(NativeAllocator allocator, int threads) {
                return (threadIndex, seed) -> {
                    Workload.Worker worker = demo.newWorker(allocator, seed);
                    return new Workload.Worker() {
                        @Override
                        public void run(long ops) {
                            worker.run(ops);
                            if (threadIndex == 1) {
                                throw new BenchFailure("thread 1 found a damaged block");
                            }
                        }

                        @Override
                        public void finish() {
                            worker.finish();
                        }
                    };
                };
            }
        };
        try (Smalloc heap = heap()) {
            BenchFailure thrown = assertThrows(BenchFailure.class, () -> WorkloadSnapshot.take(failing, heap, 3, 500, 5));
            assertEquals("thread 1 found a damaged block", thrown.getMessage());
            assertEquals(0, heap.stats().slotsInUse(), "every thread freed its blocks, the failing one too");
        }
    }

    @Test
    void badThreadAndOperationCountsAreRejected() {
        Workload singleThreaded = Workloads.create(List.of("glibc-simple"), List.of(16L), 1).getFirst();
        try (Smalloc heap = heap()) {
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                    () -> WorkloadSnapshot.take(singleThreaded, heap, 2, 10, 1));
            assertEquals("workload glibc-simple runs on 1 to 1 threads, not 2", tooMany.getMessage());
            assertThrows(IllegalArgumentException.class, () -> WorkloadSnapshot.take(new DemoWorkload(), heap, 0, 10, 1));
            IllegalArgumentException noOps = assertThrows(IllegalArgumentException.class,
                    () -> WorkloadSnapshot.take(new DemoWorkload(), heap, 1, 0, 1));
            assertTrue(noOps.getMessage().contains("operations per thread 0"), noOps.getMessage());
        }
    }
}
