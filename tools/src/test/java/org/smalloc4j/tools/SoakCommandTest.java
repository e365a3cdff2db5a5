package org.smalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.SystemAllocator;

import picocli.CommandLine;

/** The soak command: a tiny clean run on two allocators, and a broken allocator caught. */
class SoakCommandTest {

    private final StringWriter out = new StringWriter();

    private int execute(SoakCommand soak, String... args) {
        CommandLine commandLine = new CommandLine(soak);
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(out, true));
        return commandLine.execute(args);
    }

    @Test
    void aTinyRunPassesOnSmalloc() {
        assertEquals(0, execute(new SoakCommand(), "--allocator", "smalloc", "--threads", "4", "--ops", "20000"), out.toString());
        assertTrue(out.toString().contains("corruptions    0"), out.toString());
        assertTrue(out.toString().contains("verify()       passed"), out.toString());
        assertTrue(out.toString().contains("soak: PASSED"), out.toString());
    }

    @Test
    void aTinyRunPassesOnSystem() {
        assertEquals(0, execute(new SoakCommand(), "--allocator", "system", "--threads", "4", "--ops", "20000"), out.toString());
        assertTrue(out.toString().contains("summary: system"), out.toString());
        assertTrue(out.toString().contains("soak: PASSED"), out.toString());
    }

    @Test
    void isASubcommand() {
        CommandLine commandLine = Smalloc4j.commandLine();
        assertTrue(commandLine.getSubcommands().containsKey("soak"));
    }

    @Test
    void overlappingBlocksAreReportedAsCorruption() {
        SoakCommand soak = new SoakCommand();
        try (OverlappingAllocator broken = new OverlappingAllocator()) {
            soak.allocatorOverride = broken;
            assertEquals(1, execute(soak, "--threads", "2", "--ops", "20000"), out.toString());
        }
        String report = out.toString();
        assertTrue(report.contains("soak: FAILED"), report);
        assertTrue(report.contains("content changed"), report);
        assertTrue(!report.contains("corruptions    0"), report);
    }

    /**
     * Gives every block from one 8 MiB buffer, at one of a few offsets 64 bytes apart, and never takes
     * anything back: live blocks overlap, as a broken free list would make them.
     */
    private static final class OverlappingAllocator implements NativeAllocator {
        private final SystemAllocator system = new SystemAllocator();
        private final long buffer = system.alloc(8 << 20, 4096);
        private final java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public long alloc(long byteSize, long byteAlignment) {
            long offset = (calls.incrementAndGet() % 4) * 64;
            long address = (buffer + offset + byteAlignment - 1) & -byteAlignment;
            return address;
        }

        @Override
        public void dealloc(long address, long byteSize, long byteAlignment) {
        }

        @Override
        public String name() {
            return "overlapping";
        }

        @Override
        public void close() {
            system.dealloc(buffer, 8 << 20, 4096);
        }
    }
}
