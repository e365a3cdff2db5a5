package org.smalloc4j.internal;

/** Argument checks and failure messages shared by every allocator: one wording everywhere. */
public final class Checks {

    private Checks() {
    }

    /** @throws IllegalArgumentException if {@code byteSize} is negative */
    public static void checkSize(String name, long byteSize) {
        if (byteSize < 0) {
            throw new IllegalArgumentException(name + " " + byteSize + " is negative");
        }
    }

    /** @throws IllegalArgumentException if {@code byteAlignment} is not a power of two (1, 2, 4, …) */
    public static void checkAlignment(long byteAlignment) {
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("byteAlignment " + byteAlignment + " is not a power of two");
        }
    }

    /** Checks a size and an alignment together, the size first. */
    public static void checkSizeAndAlignment(long byteSize, long byteAlignment) {
        checkSize("byteSize", byteSize);
        checkAlignment(byteAlignment);
    }

    /** Checks realloc's arguments: both sizes, then the alignment. */
    public static void checkRealloc(long oldSize, long byteAlignment, long newSize) {
        checkSize("oldSize", oldSize);
        checkSize("newSize", newSize);
        checkAlignment(byteAlignment);
    }

    /** An address as C prints a pointer: {@code 0x7f3a…}. */
    public static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /** The {@code OutOfMemoryError} of the FFM layer: names the allocator and the size in bytes. */
    public static OutOfMemoryError exhausted(String allocatorName, long byteSize, long byteAlignment) {
        return new OutOfMemoryError("allocator '" + allocatorName + "' could not allocate " + byteSize
                + " bytes (alignment " + byteAlignment + ")");
    }

    /** The exception of every call on a closed heap but {@code close()} and {@code contains}. */
    public static IllegalStateException closed(String allocatorName) {
        return new IllegalStateException("heap '" + allocatorName + "' is closed");
    }

    /**
     * The exception for an address an allocator did not hand out: "address 0x… {why} heap 'name'",
     * so {@code why} ends with its preposition ("is not inside", "is in no size class of").
     */
    public static IllegalArgumentException foreign(String allocatorName, long address, String why) {
        return new IllegalArgumentException("address " + hex(address) + " " + why + " heap '" + allocatorName + "'");
    }
}
