package org.smalloc4j;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.smalloc4j.internal.TraceFormat;

/**
 * Reads a trace that a {@link TrackingAllocator} {@linkplain TrackingAllocator.Builder#traceTo wrote},
 * one {@link TraceEvent} at a time, so that tools can replay a program's allocations on any allocator.
 *
 * <pre>{@code
 * try (TraceReader trace = TraceReader.open(Path.of("app.trace"))) {
 *     for (TraceEvent event; (event = trace.next()) != null; ) { ... }
 * }
 * }</pre>
 *
 * <h2>The format, version 1</h2>
 * A header, then records until the end of the file. Fixed-width numbers are big-endian. A
 * <i>varint</i> is an unsigned LEB128 number: seven bits per byte, least significant group first,
 * the high bit set on every byte but the last (0 is {@code 00}, 300 is {@code AC 02}); all varints
 * are at most 63 bits. An <i>alignment</i> is one byte, its base-2 logarithm (0 for 1 … 62 for
 * 2<sup>62</sup>). A <i>string</i> is a varint byte count and that many bytes of UTF-8.
 *
 * <pre>
 * header
 *   bytes 0-7    magic: "SM4JTRAC" in ASCII (53 4D 34 4A 54 52 41 43)
 *   bytes 8-9    version, u16: 1
 *   bytes 10-11  flags, u16: 0 (readers of version 1 ignore them)
 *   bytes 12-19  the time the trace started, i64, milliseconds since 1970-01-01T00:00Z
 *   bytes 20-    string: the name of the traced allocator ("tracking:smalloc")
 *
 * records: one op byte, then its fields
 *   op  record        fields
 *   1   ALLOC         thread, dt, size, alignment
 *   2   ALLOC_ZEROED  thread, dt, size, alignment                (as ALLOC; memory zero-filled)
 *   3   FREE          thread, dt, block id, size
 *   4   REALLOC       thread, dt, block id, old size, new size, alignment
 *   5   FAILED        thread, dt, failed op (one byte: 1, 2 or 4), then the fields of that op that
 *                     follow its dt (for 1 and 2: size, alignment; for 4: block id, old size,
 *                     new size, alignment)
 *   6   THREAD        thread, JVM thread id, name (string; at most 1024 bytes, possibly cut
 *                     inside a character)
 *   7   END           dt, number of records before this one (THREAD records included)
 *
 *   every field but alignment and the failed op is a varint
 *   thread    a small index: a THREAD record introduces each one before its first other record
 *   dt        nanoseconds since the previous record with a dt (the first: since the header's start)
 *   block id  the n-th ALLOC or ALLOC_ZEROED record (counting from 0) creates block n; a block
 *             keeps its id through REALLOC until its FREE; a FAILED record creates nothing
 * </pre>
 *
 * <p>Records are in the order the operations took effect: a {@code FREE} comes before any record of
 * a block that reused the memory, and replaying the records in order gives the same live bytes
 * after every record, and so the same peak, as the tracker counted. Sizes are those the callers
 * asked for. A realloc of address 0 is recorded as an {@code ALLOC}; frees of address 0 and
 * rejected calls are not recorded. A trace whose writer did not close (a crash, {@code kill -9})
 * has no {@code END} record and may end inside a record: the reader stops there, and
 * {@link #complete()} says so.
 */
public final class TraceReader implements AutoCloseable {

    private final Path file;
    private final InputStream in;
    private final int version;
    private final Instant startTime;
    private final String allocatorName;
    private long position;
    private long recordOffset;
    private long records;
    private long nanos;
    private long nextBlockId;
    private boolean complete;
    private boolean finished;

    private TraceReader(Path file, InputStream in) throws IOException {
        this.file = file;
        this.in = in;
        long magic = readFixed(8);
        if (magic != TraceFormat.MAGIC) {
            throw new IOException(file + " is not a smalloc4j trace (its first bytes are not \"SM4JTRAC\")");
        }
        this.version = (int) readFixed(2);
        if (version != TraceFormat.VERSION) {
            throw new IOException(file + " is a trace of version " + version + "; this reader reads version "
                    + TraceFormat.VERSION);
        }
        readFixed(2); // flags
        this.startTime = Instant.ofEpochMilli(readFixed(8));
        this.allocatorName = readString();
    }

    /**
     * Opens a trace and reads its header. A gzip-compressed trace ({@code gzip app.trace}) is read as
     * it is; offsets in messages are then those of the uncompressed trace.
     *
     * @throws IOException if the file cannot be read or is not a trace of a version this reader knows
     */
    public static TraceReader open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            if (gzip) {
                in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            }
            return new TraceReader(file, in);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** Every event of a trace, in order (for traces that fit in memory). */
    public static List<TraceEvent> readAll(Path file) throws IOException {
        try (TraceReader reader = open(file)) {
            List<TraceEvent> events = new ArrayList<>();
            for (TraceEvent event; (event = reader.next()) != null; ) {
                events.add(event);
            }
            return events;
        }
    }

    /** The format version of the file. */
    public int version() {
        return version;
    }

    /** When the trace started (wall clock, millisecond precision). */
    public Instant startTime() {
        return startTime;
    }

    /** The name of the allocator that was traced, such as {@code "tracking:smalloc"}. */
    public String allocatorName() {
        return allocatorName;
    }

    /**
     * The next event, or {@code null} after the last one (an {@link TraceEvent.End} record is
     * returned, then {@code null}).
     *
     * @throws IOException if the file cannot be read or holds a record this reader does not know
     */
    public TraceEvent next() throws IOException {
        if (finished) {
            return null;
        }
        long recordStart = position;
        recordOffset = recordStart;
        int op = in.read();
        if (op < 0) {
            finished = true;
            return null;
        }
        position++;
        try {
            TraceEvent event = readRecord(op, recordStart);
            records++;
            return event;
        } catch (EOFException cutShort) {
            finished = true; // a trace whose writer never closed may end inside a record
            return null;
        }
    }

    /**
     * The byte offset in the file of the record {@link #next()} returned last, for error messages
     * that point into the trace. After {@code next()} returned null it stays where the trace stopped:
     * at the {@code END} record, at the start of a record cut short, or at the end of the file when
     * the file ends between two records.
     */
    public long recordOffset() {
        return recordOffset;
    }

    /** Did the trace end with its {@code END} record (its writer closed)? Known once {@link #next()} returned null. */
    public boolean complete() {
        return complete;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    @Override
    public String toString() {
        return "TraceReader[" + file + ", " + allocatorName + ", version " + version + "]";
    }

    // ---------------------------------------------------------------- decoding

    private TraceEvent readRecord(int op, long recordStart) throws IOException {
        return switch (op) {
            case TraceFormat.ALLOC, TraceFormat.ALLOC_ZEROED -> {
                int thread = readThread();
                long at = readTime();
                long byteSize = readVarint();
                long byteAlignment = readAlignment();
                yield new TraceEvent.Alloc(thread, at, nextBlockId++, byteSize, byteAlignment,
                        op == TraceFormat.ALLOC_ZEROED);
            }
            case TraceFormat.FREE -> new TraceEvent.Free(readThread(), readTime(), readVarint(), readVarint());
            case TraceFormat.REALLOC -> new TraceEvent.Realloc(readThread(), readTime(), readVarint(), readVarint(),
                    readVarint(), readAlignment());
            case TraceFormat.FAILED -> readFailed(recordStart);
            case TraceFormat.THREAD -> new TraceEvent.ThreadStart((int) readVarint(), readVarint(), readString());
            case TraceFormat.END -> {
                TraceEvent.End end = new TraceEvent.End(readTime(), readVarint());
                complete = end.records() == records;
                finished = true;
                if (!complete) {
                    throw new IOException(file + ": the END record counts " + end.records() + " records, the file has "
                            + records);
                }
                yield end;
            }
            default -> throw new IOException(file + ": unknown record op " + op + " at byte " + recordStart);
        };
    }

    private TraceEvent.Failed readFailed(long recordStart) throws IOException {
        int thread = readThread();
        long at = readTime();
        int failedOp = readByte();
        return switch (failedOp) {
            case TraceFormat.ALLOC, TraceFormat.ALLOC_ZEROED -> new TraceEvent.Failed(thread, at,
                    failedOp == TraceFormat.ALLOC ? TraceEvent.Failed.Kind.ALLOC : TraceEvent.Failed.Kind.ALLOC_ZEROED,
                    -1, 0, readVarint(), readAlignment());
            case TraceFormat.REALLOC -> {
                long blockId = readVarint();
                long oldSize = readVarint();
                long newSize = readVarint();
                yield new TraceEvent.Failed(thread, at, TraceEvent.Failed.Kind.REALLOC, blockId, oldSize, newSize,
                        readAlignment());
            }
            default -> throw new IOException(file + ": FAILED record at byte " + recordStart + " names op " + failedOp);
        };
    }

    private int readThread() throws IOException {
        long thread = readVarint();
        if (thread > Integer.MAX_VALUE) {
            throw new IOException(file + ": thread index " + thread + " at byte " + position + " is too large");
        }
        return (int) thread;
    }

    private long readTime() throws IOException {
        nanos += readVarint();
        return nanos;
    }

    private long readAlignment() throws IOException {
        int log2 = readByte();
        if (log2 > 62) {
            throw new IOException(file + ": alignment 2^" + log2 + " at byte " + (position - 1));
        }
        return 1L << log2;
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException();
        }
        position++;
        return b;
    }

    private long readVarint() throws IOException {
        long value = 0;
        for (int shift = 0; ; shift += 7) {
            int b = readByte();
            if (shift == 56 && (b & 0x80) != 0) {
                throw new IOException(file + ": varint longer than 63 bits at byte " + position);
            }
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
    }

    private long readFixed(int bytes) throws IOException {
        long value = 0;
        for (int i = 0; i < bytes; i++) {
            value = value << 8 | readByte();
        }
        return value;
    }

    private String readString() throws IOException {
        long length = readVarint();
        if (length > TraceFormat.MAX_NAME_BYTES) {
            throw new IOException(file + ": string of " + length + " bytes at byte " + position);
        }
        byte[] utf8 = in.readNBytes((int) length);
        position += utf8.length;
        if (utf8.length < length) {
            throw new EOFException();
        }
        return new String(utf8, StandardCharsets.UTF_8); // replaces a character cut at the end
    }
}
