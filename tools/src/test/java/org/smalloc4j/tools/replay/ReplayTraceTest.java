package org.smalloc4j.tools.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.smalloc4j.TraceEvent;
import org.smalloc4j.TraceReader;
import org.smalloc4j.internal.TraceWriter;

/** Traces that cannot be replayed faithfully: each error names the file and the byte offset. */
class ReplayTraceTest {

    @TempDir
    Path dir;

    /** What a test writes into a trace, on thread index 0. */
    private interface Records {
        void write(TraceWriter writer, int thread);
    }

    /** A trace named {@code name} with a thread record, {@code records} and the end. */
    private Path trace(String name, Records records) throws IOException {
        Path file = dir.resolve(name);
        TraceWriter writer = TraceWriter.open(file, "tracking:test");
        records.write(writer, writer.newThread(1, "main"));
        writer.close();
        return file;
    }

    /** Three allocations (block 0, 1, 2) and a free of block 1. */
    private Path validTrace() throws IOException {
        return trace("valid.trace", (writer, thread) -> {
            writer.alloc(thread, 100, 8, false);
            writer.alloc(thread, 200, 16, true);
            writer.alloc(thread, 300, 8, false);
            writer.free(thread, 1, 200);
        });
    }

    /** The offset of the {@code nth} record (from 1) of {@code type} in {@code file}. */
    private static long offsetOf(Path file, Class<? extends TraceEvent> type, int nth) throws IOException {
        int seen = 0;
        try (TraceReader reader = TraceReader.open(file)) {
            for (TraceEvent event; (event = reader.next()) != null; ) {
                if (type.isInstance(event) && ++seen == nth) {
                    return reader.recordOffset();
                }
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " number " + nth + " in " + file);
    }

    @Test
    void aValidTraceLoads() throws IOException {
        ReplayTrace trace = ReplayTrace.load(validTrace(), false);
        assertEquals(4, trace.operations());
        assertEquals(600, trace.peakLiveBytes());
        assertEquals(400, trace.endLiveBytes());
        assertEquals("tracking:test", trace.summary().tracedAllocator());
    }

    @Test
    void aCorruptRecordIsNamedWithFileAndOffset() throws IOException {
        Path file = validTrace();
        long free = offsetOf(file, TraceEvent.Free.class, 1);
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) free] = 42; // no such op
        Path corrupt = dir.resolve("corrupt.trace");
        Files.write(corrupt, bytes);
        IOException error = assertThrows(IOException.class, () -> ReplayTrace.load(corrupt, false));
        assertTrue(error.getMessage().contains(corrupt.toString()), error.getMessage());
        assertTrue(error.getMessage().contains("unknown record op 42 at byte " + free), error.getMessage());
    }

    @Test
    void aTruncatedTraceIsNamedWithFileAndOffset() throws IOException {
        Path file = validTrace();
        long free = offsetOf(file, TraceEvent.Free.class, 1);
        byte[] bytes = Files.readAllBytes(file);
        Path cut = dir.resolve("cut.trace");
        Files.write(cut, Arrays.copyOf(bytes, (int) free + 2)); // inside the FREE record
        IOException error = assertThrows(IOException.class, () -> ReplayTrace.load(cut, false));
        assertTrue(error.getMessage().startsWith(cut + ": the trace is cut short at byte " + free), error.getMessage());
        assertTrue(error.getMessage().contains("--allow-incomplete"), error.getMessage());

        ReplayTrace upToTheCut = ReplayTrace.load(cut, true);
        assertFalse(upToTheCut.summary().complete());
        assertEquals(3, upToTheCut.operations(), "the three allocations before the cut");
        assertEquals(600, upToTheCut.endLiveBytes());
    }

    @Test
    void aFileThatIsNotATraceIsNamed() throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "not a trace");
        IOException error = assertThrows(IOException.class, () -> ReplayTrace.load(text, false));
        assertTrue(error.getMessage().contains(text + " is not a smalloc4j trace"), error.getMessage());
    }

    @Test
    void aFreeOfABlockThatIsNotLiveIsNamedWithItsOffset() throws IOException {
        Path file = trace("double-free.trace", (writer, thread) -> {
            writer.alloc(thread, 100, 8, false);
            writer.free(thread, 0, 100);
            writer.free(thread, 0, 100);
        });
        long secondFree = offsetOf(file, TraceEvent.Free.class, 2);
        IOException error = assertThrows(IOException.class, () -> ReplayTrace.load(file, false));
        assertEquals(file + ": record at byte " + secondFree + ": free of block 0, which is not live", error.getMessage());
    }

    @Test
    void aSizeThatDiffersFromTheBlocksIsNamed() throws IOException {
        Path file = trace("size.trace", (writer, thread) -> {
            writer.alloc(thread, 100, 8, false);
            writer.realloc(thread, 0, 64, 200, 8);
        });
        long realloc = offsetOf(file, TraceEvent.Realloc.class, 1);
        IOException error = assertThrows(IOException.class, () -> ReplayTrace.load(file, false));
        assertEquals(file + ": record at byte " + realloc + ": realloc of block 0 says 64 bytes; the block has 100",
                error.getMessage());
    }

    @Test
    void failedRequestsAreSkippedAndCounted() throws IOException {
        Path file = trace("failed.trace", (writer, thread) -> {
            writer.alloc(thread, 100, 8, false);
            writer.failedAlloc(thread, Long.MAX_VALUE, 8, false);
            writer.failedRealloc(thread, 0, 100, Long.MAX_VALUE, 8);
            writer.free(thread, 0, 100);
        });
        ReplayTrace trace = ReplayTrace.load(file, false);
        assertEquals(2, trace.operations());
        assertEquals(2, trace.summary().failedRecords());
        assertEquals(100, trace.peakLiveBytes());
    }
}
