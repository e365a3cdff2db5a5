package org.smalloc4j.internal;

/**
 * The numbers of the trace format, in one place for the writer ({@link TraceWriter}) and the reader
 * ({@code org.smalloc4j.TraceReader}, whose class comment describes the format byte by byte).
 *
 * <pre>
 *  header   magic "SM4JTRAC" (8) | version u16 | flags u16 | start, epoch ms i64 | name: varint n, n bytes UTF-8
 *  record   op (1) | fields, each an unsigned LEB128 varint but log2(alignment), one byte
 * </pre>
 */
public final class TraceFormat {

    /** "SM4JTRAC" in ASCII, big-endian: the first 8 bytes of every trace. */
    public static final long MAGIC = 0x534D_344A_5452_4143L;
    /** The version this code writes and reads. */
    public static final int VERSION = 1;

    // op codes: the first byte of each record
    /** A new block: thread, dt, size, log2(alignment). */
    public static final int ALLOC = 1;
    /** A new zero-filled block: as {@link #ALLOC}. */
    public static final int ALLOC_ZEROED = 2;
    /** A block given back: thread, dt, block id, size. */
    public static final int FREE = 3;
    /** A block resized, keeping its id: thread, dt, block id, old size, new size, log2(alignment). */
    public static final int REALLOC = 4;
    /** A request that got nothing: thread, dt, the op that failed, then that op's fields after dt. */
    public static final int FAILED = 5;
    /** A thread's first appearance: index, JVM thread id, name (varint n, n bytes UTF-8). */
    public static final int THREAD = 6;
    /** The end of a complete trace: dt, number of records before this one. */
    public static final int END = 7;

    /** Thread names are cut to this many UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 1024;
    /** The longest record but a {@link #THREAD} or the header: an op, a kind, seven varints, a byte. */
    public static final int MAX_RECORD_BYTES = 2 + 7 * 10 + 1;
    /** The bytes of the fixed part of the header (magic, version, flags, start time). */
    public static final int FIXED_HEADER_BYTES = 8 + 2 + 2 + 8;

    private TraceFormat() {
    }

    /** The byte that stands for an alignment: its log2, 0 to 62. */
    public static int log2(long byteAlignment) {
        assert byteAlignment > 0 && Long.bitCount(byteAlignment) == 1 : byteAlignment;
        return Long.numberOfTrailingZeros(byteAlignment);
    }
}
