package org.smalloc4j.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Runs {@link SharedArenaBenchmark}'s fixtures and methods without JMH, in the order JMH does. */
class SharedArenaBenchmarkTest {

    private static SharedArenaBenchmark benchmark(long size) {
        SharedArenaBenchmark benchmark = new SharedArenaBenchmark();
        benchmark.size = size;
        benchmark.warmUp();
        return benchmark;
    }

    @Test
    void aShotAllocatesItsBlocksFromTheIterationsArena() {
        SharedArenaBenchmark benchmark = benchmark(4096);
        benchmark.openArena();
        assertNotEquals(0, benchmark.allocate1T());
        assertNotEquals(0, benchmark.allocate2T());
        benchmark.closeArena();
    }

    @Test
    void closeClosesAFilledArenaAndTheTeardownChecksIt() {
        SharedArenaBenchmark benchmark = benchmark(256);
        SharedArenaBenchmark.FilledArena filled = new SharedArenaBenchmark.FilledArena();
        filled.blocks = 256;
        filled.fill(benchmark);
        benchmark.close(filled);
        assertFalse(filled.arena.scope().isAlive());
        filled.checkClosed();

        filled.fill(benchmark);
        IllegalStateException e = assertThrows(IllegalStateException.class, filled::checkClosed);
        assertEquals("the shot did not close its arena", e.getMessage());
        filled.arena.close();
    }
}
