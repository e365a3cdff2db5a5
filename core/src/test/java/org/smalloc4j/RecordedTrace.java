package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Traces of real programs (SQLite, zstd) recorded by the tests that run them on our allocators: each
 * goes to {@code target/traces/NAME.trace} (or the folder of system property {@code smalloc4j.traceDir})
 * and is read back here. The traces shipped in the repository's {@code traces/} folder are copies
 * (see {@code traces/README.md}):
 * <pre>
 * ./mvnw -pl core test -Dtest='SqliteAllocatorTest,ZstdAllocatorTest'
 * gzip -9 -c core/target/traces/sqlite.trace > traces/sqlite.trace.gz
 * cp core/target/traces/zstd.trace traces/
 * </pre>
 */
final class RecordedTrace {

    private RecordedTrace() {
    }

    /** Where the test recording {@code name} writes its trace. */
    static Path file(String name) {
        Path folder = Path.of(System.getProperty("smalloc4j.traceDir", "target/traces"));
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return folder.resolve(name + ".trace");
    }

    /** What a trace holds, read back from its file. */
    record Summary(long allocations, long frees, long reallocs, long peakLiveBytes, int threads) {
    }

    /**
     * Reads {@code file} back and checks that it is complete and balanced: every block freed once, the
     * live bytes at the end zero, and the tracker's own counts, {@code tracker}'s, the same.
     */
    static Summary assertCompleteAndBalanced(Path file, TrackingAllocator tracker) throws IOException {
        Map<Long, Long> live = new HashMap<>();
        long allocations = 0, frees = 0, reallocs = 0, liveBytes = 0, peak = 0;
        int threads = 0;
        try (TraceReader reader = TraceReader.open(file)) {
            for (TraceEvent event; (event = reader.next()) != null; ) {
                switch (event) {
                    case TraceEvent.Alloc a -> {
                        allocations++;
                        assertEquals(null, live.put(a.blockId(), a.byteSize()), "block " + a.blockId() + " allocated twice");
                        liveBytes += a.byteSize();
                    }
                    case TraceEvent.Realloc r -> {
                        reallocs++;
                        assertEquals(r.oldSize(), live.put(r.blockId(), r.newSize()), "realloc of block " + r.blockId());
                        liveBytes += r.newSize() - r.oldSize();
                    }
                    case TraceEvent.Free f -> {
                        frees++;
                        assertEquals(f.byteSize(), live.remove(f.blockId()), "free of block " + f.blockId());
                        liveBytes -= f.byteSize();
                    }
                    case TraceEvent.ThreadStart t -> threads++;
                    case TraceEvent.Failed failed -> throw new AssertionError("a failed request in the trace: " + failed);
                    case TraceEvent.End end -> { }
                }
                peak = Math.max(peak, liveBytes);
            }
            assertTrue(reader.complete(), file + " has no END record");
        }
        assertTrue(live.isEmpty(), () -> live.size() + " blocks never freed in " + file);
        assertEquals(tracker.allocationCount(), allocations, "allocations in " + file);
        assertEquals(tracker.freeCount(), frees, "frees in " + file);
        assertEquals(tracker.reallocCount(), reallocs, "reallocs in " + file);
        assertEquals(tracker.peakBytes(), peak, "peak live bytes replayed from " + file);
        return new Summary(allocations, frees, reallocs, peak, threads);
    }
}
