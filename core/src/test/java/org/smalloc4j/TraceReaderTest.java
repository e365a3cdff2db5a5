package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceReaderTest {

    @Test
    void aGzippedTraceReadsAsTheTraceItself(@TempDir Path folder) throws IOException {
        Path plain = folder.resolve("app.trace");
        try (TrackingAllocator tracing = TrackingAllocator.builder(Smalloc.global()).traceTo(plain).build()) {
            long a = tracing.alloc(100, 8);
            long b = tracing.allocZeroed(5000, 64);
            a = tracing.realloc(a, 100, 8, 300);
            tracing.dealloc(b, 5000, 64);
            tracing.dealloc(a, 300, 8);
        }
        Path gzipped = folder.resolve("app.trace.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gzipped))) {
            Files.copy(plain, out);
        }
        List<TraceEvent> events = TraceReader.readAll(plain);
        assertTrue(events.size() >= 6, events::toString); // a thread, 5 operations, the end
        assertEquals(events, TraceReader.readAll(gzipped));
        try (TraceReader reader = TraceReader.open(gzipped)) {
            assertEquals("tracking:smalloc", reader.allocatorName());
        }
    }
}
