package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where in the file each record starts ({@link TraceReader#recordOffset()}), for error messages. */
class TraceReaderOffsetTest {

    @TempDir
    Path dir;

    /** A trace of a thread record, an alloc of 1000 bytes, its free and the end; returns the file. */
    private Path smallTrace() {
        Path file = dir.resolve("small.trace");
        try (Smalloc heap = Smalloc.builder().slabsPerClass(1).largestSlot(1 << 16).build()) {
            TrackingAllocator tracking = TrackingAllocator.builder(heap).traceTo(file).build();
            tracking.dealloc(tracking.alloc(1000, 8), 1000, 8);
            tracking.close();
        }
        return file;
    }

    @Test
    void recordOffsetIsWhereEachRecordStarts() throws IOException {
        Path file = smallTrace();
        byte[] bytes = Files.readAllBytes(file);
        try (TraceReader reader = TraceReader.open(file)) {
            long header = 20 + 1 + reader.allocatorName().length(); // fixed part, name length, name
            assertInstanceOf(TraceEvent.ThreadStart.class, reader.next());
            assertEquals(header, reader.recordOffset());
            assertInstanceOf(TraceEvent.Alloc.class, reader.next());
            assertEquals(1, bytes[(int) reader.recordOffset()], "an ALLOC record starts there");
            assertInstanceOf(TraceEvent.Free.class, reader.next());
            assertEquals(3, bytes[(int) reader.recordOffset()], "a FREE record starts there");
            assertInstanceOf(TraceEvent.End.class, reader.next());
            long end = reader.recordOffset();
            assertEquals(7, bytes[(int) end], "the END record starts there");
            assertNull(reader.next());
            assertEquals(end, reader.recordOffset(), "after the last record: still the END record");
        }
    }

    @Test
    void aCutTraceStopsAtTheRecordCutShort() throws IOException {
        Path file = smallTrace();
        byte[] bytes = Files.readAllBytes(file);
        long endRecord;
        try (TraceReader reader = TraceReader.open(file)) {
            while (!(reader.next() instanceof TraceEvent.End)) {
                // up to the END record
            }
            endRecord = reader.recordOffset();
        }
        Path between = dir.resolve("between.trace");
        Files.write(between, Arrays.copyOf(bytes, (int) endRecord)); // no END record
        try (TraceReader reader = TraceReader.open(between)) {
            while (reader.next() != null) {
                // to the end
            }
            assertFalse(reader.complete());
            assertEquals(endRecord, reader.recordOffset(), "the end of the file");
        }
        Path cut = dir.resolve("cut.trace");
        Files.write(cut, Arrays.copyOf(bytes, (int) endRecord + 1)); // the END record's op byte alone
        try (TraceReader reader = TraceReader.open(cut)) {
            int events = 0;
            while (reader.next() != null) {
                events++;
            }
            assertEquals(3, events, "thread, alloc, free");
            assertFalse(reader.complete());
            assertEquals(endRecord, reader.recordOffset(), "the record cut short starts there");
            assertTrue(reader.recordOffset() < Files.size(cut));
        }
    }
}
