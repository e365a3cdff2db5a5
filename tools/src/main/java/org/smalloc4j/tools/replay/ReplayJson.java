package org.smalloc4j.tools.replay;

import java.io.IOException;
import java.nio.file.Path;

import org.smalloc4j.SmallocStats;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * Replay results as JSON (Jackson, records as objects): between a worker and its parent (with a
 * Smalloc heap's stats at the peak, for the report's heap map), and in replay.json.
 */
public final class ReplayJson {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReplayJson() {
    }

    /** Writes {@code value} (a record of this package) to {@code file}. */
    public static void write(Path file, Object value) throws IOException {
        MAPPER.writeValue(file.toFile(), value);
    }

    /** Reads one allocator's result, as a worker wrote it. */
    public static AllocatorReplay readAllocatorReplay(Path file) throws IOException {
        return MAPPER.readValue(file.toFile(), AllocatorReplay.class);
    }

    /** Reads a heap's stats, as a worker wrote them at the trace's peak. */
    public static SmallocStats readStats(Path file) throws IOException {
        return MAPPER.readValue(file.toFile(), SmallocStats.class);
    }

    /** Reads a whole report, as {@code smalloc4j replay} wrote it to {@code replay.json}. */
    public static ReplayReport readReport(Path file) throws IOException {
        return MAPPER.readValue(file.toFile(), ReplayReport.class);
    }
}
