package org.smalloc4j.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few Linux calls the heap needs: {@code mmap}, {@code munmap}, {@code madvise},
 * {@code mincore}, each through an FFM downcall. Failures come back as {@link NativeException}
 * carrying {@code errno}.
 */
public final class Native {

    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    /** Map exactly at the hint or fail with EEXIST (Linux 4.17+; older kernels treat it as a hint). */
    private static final int MAP_FIXED_NOREPLACE = 0x100000;
    /** The end of user address space with 4-level paging (x86-64, and AArch64 with 48-bit VA). */
    private static final long USER_ADDRESS_LIMIT = 1L << 47;
    private static final long MAP_FAILED = -1L;
    /** Drops the pages: the next touch finds zeros, and resident memory falls at once. */
    private static final int MADV_DONTNEED = 4;

    /** Page size of the machine, read from {@code sysconf(_SC_PAGESIZE)}. */
    public static final long PAGE_SIZE;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), true);
    private static final MethodHandle MUNMAP = downcall("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), true);
    private static final MethodHandle MADVISE = downcall("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), false);
    private static final MethodHandle MINCORE = downcall("mincore",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS), true);
    private static final MethodHandle MEMSET = LINKER.downcallHandle(
            LIBC.find("memset").orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol memset")),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle SYSCONF = downcall("sysconf",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT), false);
    private static final int SC_PAGESIZE = 30;

    static {
        try {
            PAGE_SIZE = (long) SYSCONF.invokeExact(SC_PAGESIZE);
        } catch (Throwable t) {
            throw new ExceptionInInitializerError(t);
        }
    }

    private Native() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, boolean captureErrno) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return captureErrno
                ? LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"))
                : LINKER.downcallHandle(symbol, descriptor);
    }

    /** A failed system call: which call, and the {@code errno} it left. */
    public static final class NativeException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        NativeException(String call, int errno) {
            super(call + " failed: errno " + errno + " (" + errnoName(errno) + ")");
            this.errno = errno;
        }

        /** The {@code errno} value the call left. */
        public int errno() {
            return errno;
        }
    }

    private static String errnoName(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 9 -> "EBADF";
            case 12 -> "ENOMEM: not enough address space or map count";
            case 17 -> "EEXIST";
            case 14 -> "EFAULT";
            case 22 -> "EINVAL";
            default -> "see errno(3)";
        };
    }

    /**
     * Reserves {@code byteSize} bytes of address space aligned to {@code byteAlignment} (a power of
     * two), readable and writable, with no swap reserved: pages cost memory only when touched.
     * First maps {@code byteSize + byteAlignment} and unmaps the unaligned head and the tail (a size
     * below a page keeps a whole page mapped). When no free range is that large, which happens once
     * several heaps of terabytes share the address space, it asks for each aligned position in turn,
     * from the top of the 47-bit user space down, with {@code MAP_FIXED_NOREPLACE}: so heaps pack
     * into aligned holes instead of needing twice their size free.
     *
     * @throws NativeException if the kernel refuses every placement
     */
    public static long reserveAligned(long byteSize, long byteAlignment) {
        long align = Math.max(byteAlignment, PAGE_SIZE);
        long span = Math.addExact(byteSize, align);
        long raw;
        try {
            raw = mmap(0L, span, 0);
        } catch (NativeException noRoomForTheSlack) {
            return reserveAtAlignedHole(byteSize, align, noRoomForTheSlack);
        }
        long base = (raw + align - 1) & -align;
        if (base > raw) {
            munmap(raw, base - raw);
        }
        long end = roundUpToPage(base + byteSize);
        if (raw + span > end) {
            munmap(end, raw + span - end);
        }
        return base;
    }

    private static long reserveAtAlignedHole(long byteSize, long align, NativeException firstFailure) {
        for (long hint = (USER_ADDRESS_LIMIT - byteSize) & -align; hint >= align; hint -= align) {
            long address;
            try {
                address = mmap(hint, byteSize, MAP_FIXED_NOREPLACE);
            } catch (NativeException occupied) {
                continue; // EEXIST: something lives in this hole
            }
            if (address == hint) {
                return address;
            }
            munmap(address, byteSize); // a kernel without MAP_FIXED_NOREPLACE took it as a mere hint
        }
        throw new NativeException("mmap of " + byteSize + " bytes at any " + align + "-aligned address (after an mmap of "
                + Math.addExact(byteSize, align) + " bytes to align in)", firstFailure.errno());
    }

    /** Reserves {@code byteSize} bytes (rounded up to pages), page aligned, zero on first touch. */
    public static long reserve(long byteSize) {
        return mmap(0L, roundUpToPage(byteSize), 0);
    }

    private static long mmap(long hint, long byteSize, int extraFlags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long address = (long) MMAP.invokeExact(state, hint, byteSize, PROT_READ_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extraFlags, -1, 0L);
            if (address == MAP_FAILED) {
                throw new NativeException("mmap of " + byteSize + " bytes", (int) ERRNO.get(state, 0L));
            }
            return address;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("mmap downcall", t);
        }
    }

    /** Gives the range back to the kernel. */
    public static void munmap(long address, long byteSize) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) MUNMAP.invokeExact(state, address, roundUpToPage(byteSize));
            if (result != 0) {
                throw new NativeException("munmap of " + byteSize + " bytes at 0x" + Long.toHexString(address),
                        (int) ERRNO.get(state, 0L));
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("munmap downcall", t);
        }
    }

    /**
     * Zeroes {@code range} with libc's {@code memset}: from a few kilobytes on, about twice as fast here
     * as {@link MemorySegment#fill} (measured on 4 and 64 KiB blocks). The call holds the segment's scope,
     * so its heap cannot be unmapped meanwhile.
     */
    public static void zero(MemorySegment range) {
        try {
            MemorySegment start = (MemorySegment) MEMSET.invokeExact(range, 0, range.byteSize()); // memset returns its first argument
        } catch (Throwable t) {
            if (t instanceof RuntimeException e) {
                throw e; // the heap closed meanwhile: IllegalStateException
            }
            throw new AssertionError("memset downcall", t);
        }
    }

    /**
     * Drops the whole pages of {@code range}: their memory goes back to the kernel and they read as
     * zero afterwards. Partial pages at either end are kept. The range is passed as a segment so that
     * its heap cannot be unmapped during the call (the call holds the segment's scope).
     */
    public static void releasePages(MemorySegment range) {
        long address = range.address();
        long start = (address + PAGE_SIZE - 1) & -PAGE_SIZE;
        long end = (address + range.byteSize()) & -PAGE_SIZE;
        if (end <= start) {
            return;
        }
        int result;
        try {
            result = (int) MADVISE.invokeExact(range.asSlice(start - address, end - start), end - start, MADV_DONTNEED);
        } catch (Throwable t) {
            if (t instanceof RuntimeException e) {
                throw e; // the heap closed meanwhile: IllegalStateException
            }
            throw new AssertionError("madvise downcall", t);
        }
        // madvise(MADV_DONTNEED) on our own private anonymous mapping cannot fail but for a bug
        assert result == 0 : "madvise failed at 0x" + Long.toHexString(start);
    }

    /** How many bytes of {@code [address, address + byteSize)} are resident, by {@code mincore}. */
    public static long residentBytes(long address, long byteSize) {
        long start = address & -PAGE_SIZE;
        long end = roundUpToPage(address + byteSize);
        long pages = (end - start) / PAGE_SIZE;
        long resident = 0;
        final long batchPages = 1 << 16;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment vector = arena.allocate(batchPages);
            for (long page = 0; page < pages; page += batchPages) {
                long count = Math.min(batchPages, pages - page);
                int result = (int) MINCORE.invokeExact(state, start + page * PAGE_SIZE, count * PAGE_SIZE, vector);
                if (result != 0) {
                    throw new NativeException("mincore", (int) ERRNO.get(state, 0L));
                }
                for (long i = 0; i < count; i++) {
                    resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
                }
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("mincore downcall", t);
        }
        return resident * PAGE_SIZE;
    }

    static long roundUpToPage(long byteSize) {
        return (byteSize + PAGE_SIZE - 1) & -PAGE_SIZE;
    }
}
