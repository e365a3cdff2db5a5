package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.Test;
import org.smalloc4j.internal.ThreadCounters;

/** The per-thread counters behind TrackingAllocator: exact sums, and no growth with short-lived threads. */
class ThreadCountersTest {

    @Test
    void sumsAreExactAfterConcurrentAdds() throws InterruptedException {
        ThreadCounters counters = new ThreadCounters(3);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                ThreadCounters.Cell cell = counters.cell();
                for (int i = 0; i < 200_000; i++) {
                    cell.add(0, 1);
                    cell.add(2, i);
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(8 * 200_000L, counters.sum(0));
        assertEquals(0, counters.sum(1));
        assertArrayEquals(new long[] {0, 8 * (200_000L * 199_999 / 2)}, counters.sums(1, 3));
    }

    @Test
    void cellsOfEndedThreadsAreFoldedAndTheirCountsKept() throws InterruptedException {
        ThreadCounters counters = new ThreadCounters(1);
        for (int t = 0; t < 1000; t++) {
            Thread.ofPlatform().start(() -> counters.cell().add(0, 3)).join();
        }
        assertEquals(3000, counters.sum(0));
        assertTrue(counters.cellCount() <= 128, () -> counters.cellCount() + " cells for 1 live thread");
    }

    @Test
    void manyVirtualThreadsCountExactlyInBoundedMemory() {
        ThreadCounters counters = new ThreadCounters(1);
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 20_000; t++) {
                executor.submit(() -> counters.cell().add(0, 1));
            }
        }
        assertEquals(20_000, counters.sum(0));
        assertTrue(counters.cellCount() < 20_000, () -> counters.cellCount() + " cells left of 20000 ended threads");
    }
}
