package org.smalloc4j.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Writes a trace ({@link TraceFormat}; described byte by byte in {@code org.smalloc4j.TraceReader})
 * through a 64 KiB buffer to a file channel. Not thread-safe: the caller serializes the calls, and
 * the order of the calls is the order of the records.
 *
 * <p>An I/O error does not reach the allocating thread: the writer stops writing, keeps the error,
 * and {@link #close()} throws it. Records after {@link #close()} are dropped.
 */
public final class TraceWriter {

    private static final int BUFFER_BYTES = 1 << 16;

    private final Path file;
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
    private long lastNanos;
    private long records;
    private int threads;
    private IOException failure;
    private boolean closed;

    private TraceWriter(Path file, FileChannel channel, long startNanos) {
        this.file = file;
        this.channel = channel;
        this.lastNanos = startNanos;
    }

    /**
     * Creates (or truncates) {@code file} and writes the header.
     *
     * @param allocatorName the name of the allocator being traced, for the header
     */
    public static TraceWriter open(Path file, String allocatorName) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        TraceWriter writer = new TraceWriter(file, channel, System.nanoTime());
        ByteBuffer header = writer.buffer;
        header.putLong(TraceFormat.MAGIC);
        header.putShort((short) TraceFormat.VERSION);
        header.putShort((short) 0); // flags: none yet
        header.putLong(System.currentTimeMillis());
        writer.putString(allocatorName);
        return writer;
    }

    /** Is the writer still writing (not closed, no I/O error)? */
    public boolean isWriting() {
        return !closed && failure == null;
    }

    /** The file written to. */
    public Path file() {
        return file;
    }

    /** Records a thread's first appearance and returns its index for later records. */
    public int newThread(long threadId, String name) {
        int index = threads++;
        if (!isWriting()) {
            return index;
        }
        ensure(TraceFormat.MAX_RECORD_BYTES + TraceFormat.MAX_NAME_BYTES);
        buffer.put((byte) TraceFormat.THREAD);
        putVarint(index);
        putVarint(threadId);
        putString(name);
        records++;
        return index;
    }

    /** Records a new block; its id is the number of blocks recorded before it. */
    public void alloc(int thread, long byteSize, long byteAlignment, boolean zeroed) {
        if (start(zeroed ? TraceFormat.ALLOC_ZEROED : TraceFormat.ALLOC, thread)) {
            putAllocFields(byteSize, byteAlignment);
        }
    }

    /** Records a block given back. */
    public void free(int thread, long blockId, long byteSize) {
        if (start(TraceFormat.FREE, thread)) {
            putVarint(blockId);
            putVarint(byteSize);
        }
    }

    /** Records a block resized (moved or not); it keeps its id. */
    public void realloc(int thread, long blockId, long oldSize, long newSize, long byteAlignment) {
        if (start(TraceFormat.REALLOC, thread)) {
            putReallocFields(blockId, oldSize, newSize, byteAlignment);
        }
    }

    /** Records an allocation that got nothing. */
    public void failedAlloc(int thread, long byteSize, long byteAlignment, boolean zeroed) {
        if (start(TraceFormat.FAILED, thread)) {
            buffer.put((byte) (zeroed ? TraceFormat.ALLOC_ZEROED : TraceFormat.ALLOC));
            putAllocFields(byteSize, byteAlignment);
        }
    }

    /** Records a realloc that got nothing (the block stays as it was). */
    public void failedRealloc(int thread, long blockId, long oldSize, long newSize, long byteAlignment) {
        if (start(TraceFormat.FAILED, thread)) {
            buffer.put((byte) TraceFormat.REALLOC);
            putReallocFields(blockId, oldSize, newSize, byteAlignment);
        }
    }

    /**
     * Writes the end record, flushes and closes the file. Does nothing the second time.
     *
     * @throws IOException the first I/O error met while writing, or one met now
     */
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (failure == null) {
                ensure(TraceFormat.MAX_RECORD_BYTES);
                buffer.put((byte) TraceFormat.END);
                putVarint(deltaNanos());
                putVarint(records);
                flush();
            }
        } finally {
            closed = true;
            try {
                channel.close();
            } catch (IOException e) {
                fail(e);
            }
        }
        if (failure != null) {
            throw new IOException("trace " + file + " is incomplete: writing failed after " + records + " records",
                    failure);
        }
    }

    // ---------------------------------------------------------------- encoding

    /** Writes op, thread and time; false if the writer no longer writes. */
    private boolean start(int op, int thread) {
        if (!isWriting()) {
            return false;
        }
        ensure(TraceFormat.MAX_RECORD_BYTES);
        buffer.put((byte) op);
        putVarint(thread);
        putVarint(deltaNanos());
        records++;
        return true;
    }

    private void putAllocFields(long byteSize, long byteAlignment) {
        putVarint(byteSize);
        buffer.put((byte) TraceFormat.log2(byteAlignment));
    }

    private void putReallocFields(long blockId, long oldSize, long newSize, long byteAlignment) {
        putVarint(blockId);
        putVarint(oldSize);
        putVarint(newSize);
        buffer.put((byte) TraceFormat.log2(byteAlignment));
    }

    /** Nanoseconds since the previous record (or the header); never negative. */
    private long deltaNanos() {
        long now = System.nanoTime();
        long delta = Math.max(0, now - lastNanos);
        lastNanos = Math.max(now, lastNanos);
        return delta;
    }

    /** Unsigned LEB128: seven bits a byte, low first, the high bit set on every byte but the last. */
    private void putVarint(long value) {
        assert value >= 0 : value;
        while ((value & ~0x7FL) != 0) {
            buffer.put((byte) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        buffer.put((byte) value);
    }

    private void putString(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > TraceFormat.MAX_NAME_BYTES) {
            utf8 = Arrays.copyOf(utf8, TraceFormat.MAX_NAME_BYTES); // may cut a character: readers decode leniently
        }
        putVarint(utf8.length);
        buffer.put(utf8);
    }

    // ---------------------------------------------------------------- I/O

    private void ensure(int bytes) {
        if (buffer.remaining() < bytes) {
            flush();
        }
    }

    private void flush() {
        buffer.flip();
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            fail(e);
        }
        buffer.clear();
    }

    private void fail(IOException e) {
        if (failure == null) {
            failure = e;
        } else if (failure != e) {
            failure.addSuppressed(e);
        }
    }
}
