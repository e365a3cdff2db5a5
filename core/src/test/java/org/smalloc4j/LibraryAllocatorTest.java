package org.smalloc4j;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.smalloc4j.Patterns.assertAligned;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.smalloc4j.internal.SharedLibrary;

/**
 * What is particular to jemalloc and mimalloc behind the contract: the blocks really come from the
 * library, mimalloc 2.0.9's misaligned blocks are avoided, loading happens once, and the reasons given
 * when a library cannot load. The shared contract runs in {@link JemallocContractTest} and
 * {@link MimallocContractTest}.
 */
class LibraryAllocatorTest {

    private static final Linker LINKER = Linker.nativeLinker();

    private static MethodHandle function(String soname, String symbol, FunctionDescriptor descriptor) {
        SymbolLookup library = SymbolLookup.libraryLookup(soname, Arena.global());
        return LINKER.downcallHandle(library.find(symbol).orElseThrow(), descriptor);
    }

    @Test
    void jemallocBlocksAreJemallocs() throws Throwable {
        NativeAllocator jemalloc = RequiredLibrary.require(LibraryAllocator.JEMALLOC);
        // sallocx(p, 0) reads jemalloc's own metadata of p; nallocx(size, 0) is the size class it expects
        MethodHandle sallocx = function("libjemalloc.so.2", "sallocx", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT));
        MethodHandle nallocx = function("libjemalloc.so.2", "nallocx", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT));
        for (long byteSize : new long[] {1, 100, 1000, 5000, 100_000, 3 << 20}) {
            long address = jemalloc.alloc(byteSize, 8);
            long expected = (long) nallocx.invokeExact(byteSize, 0);
            assertEquals(expected, (long) sallocx.invokeExact(address, 0), "jemalloc's size class of a " + byteSize + "-byte block");
            long grown = jemalloc.realloc(address, byteSize, 8, byteSize * 2);
            assertEquals((long) nallocx.invokeExact(byteSize * 2, 0), (long) sallocx.invokeExact(grown, 0));
            jemalloc.dealloc(grown, byteSize * 2, 8);
        }
    }

    @Test
    void mimallocBlocksAreMimallocs() throws Throwable {
        NativeAllocator mimalloc = RequiredLibrary.require(LibraryAllocator.MIMALLOC);
        MethodHandle inHeap = function("libmimalloc.so.2", "mi_is_in_heap_region", FunctionDescriptor.of(JAVA_BOOLEAN, JAVA_LONG));
        MethodHandle usableSize = function("libmimalloc.so.2", "mi_usable_size", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        for (long byteAlignment : new long[] {1, 64, 4096}) {
            for (long byteSize : new long[] {1, 100, 5000, 3 << 20}) {
                long address = mimalloc.allocZeroed(byteSize, byteAlignment);
                assertTrue((boolean) inHeap.invokeExact(address), "mimalloc does not own its own block");
                assertTrue((long) usableSize.invokeExact(address) >= byteSize);
                mimalloc.dealloc(address, byteSize, byteAlignment);
            }
        }
        long libcBlock = new SystemAllocator().alloc(100, 8);
        assertFalse((boolean) inHeap.invokeExact(libcBlock), "libc's block inside mimalloc's heap: a replaced malloc?");
        new SystemAllocator().dealloc(libcBlock, 100, 8);
    }

    @Test
    void jemallocUsableSizeIsItsSizeClass() throws Throwable {
        LibraryAllocator jemalloc = (LibraryAllocator) RequiredLibrary.require(LibraryAllocator.JEMALLOC);
        MethodHandle nallocx = function("libjemalloc.so.2", "nallocx", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT));
        for (long byteSize : new long[] {0, 1, 100, 1000, 5000, 100_000, 3 << 20}) {
            long address = jemalloc.alloc(byteSize, 8);
            long expected = (long) nallocx.invokeExact(Math.max(byteSize, 1), 0);
            assertEquals(expected, jemalloc.usableSize(address), "usable size of a " + byteSize + "-byte block");
            jemalloc.dealloc(address, byteSize, 8);
        }
        long aligned = jemalloc.alloc(100, 4096);
        assertTrue(jemalloc.usableSize(aligned) >= 100);
        jemalloc.dealloc(aligned, 100, 4096);
        assertEquals(0, jemalloc.usableSize(0));
    }

    @Test
    void mimallocUsableSizeCoversTheSizeAskedFor() {
        LibraryAllocator mimalloc = (LibraryAllocator) RequiredLibrary.require(LibraryAllocator.MIMALLOC);
        for (long byteAlignment : new long[] {1, 64, 4096}) {
            for (long byteSize : new long[] {0, 1, 100, 5000, 3 << 20}) {
                long address = mimalloc.alloc(byteSize, byteAlignment);
                long usable = mimalloc.usableSize(address);
                // an aligned request takes size + alignment from a size class, up to 25 % apart
                assertTrue(usable >= Math.max(byteSize, 1) && usable <= 2 * (Math.max(byteSize, 8) + byteAlignment),
                        "usable " + usable + " of a " + byteSize + "-byte block aligned to " + byteAlignment);
                MemorySegment.ofAddress(address).reinterpret(usable).fill((byte) 0x5A); // all the caller's
                mimalloc.dealloc(address, byteSize, byteAlignment);
            }
        }
        assertEquals(0, mimalloc.usableSize(0));
    }

    /** Size 256, 512, 1024 at alignment 256 or more: every block of mi_malloc_aligned is misaligned (2.0.9). */
    @ParameterizedTest(name = "byteAlignment {0}")
    @ValueSource(longs = {128, 256, 512, 1024, 2048})
    void mimallocBlocksAreAlignedWhereItsAlignedMallocIsNot(long byteAlignment) throws Throwable {
        NativeAllocator mimalloc = RequiredLibrary.require(LibraryAllocator.MIMALLOC);
        MethodHandle alignedMalloc = function("libmimalloc.so.2", "mi_malloc_aligned",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        MethodHandle free = function("libmimalloc.so.2", "mi_free", FunctionDescriptor.ofVoid(JAVA_LONG));
        for (long byteSize = byteAlignment; byteSize <= 4 * Math.max(byteAlignment, 1024); byteSize *= 2) {
            int misalignedByLibrary = 0;
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                long raw = (long) alignedMalloc.invokeExact(byteSize, byteAlignment);
                misalignedByLibrary += raw % byteAlignment == 0 ? 0 : 1;
                free.invokeExact(raw);

                String what = "(" + byteSize + ", " + byteAlignment + ") round " + i
                        + " (mi_malloc_aligned misaligned " + misalignedByLibrary + " so far)";
                long address = mimalloc.alloc(byteSize, byteAlignment);
                assertAligned(address, byteAlignment, "alloc" + what);
                long zeroed = mimalloc.allocZeroed(byteSize, byteAlignment);
                assertAligned(zeroed, byteAlignment, "allocZeroed" + what);
                long small = mimalloc.alloc(24, 8);
                long grown = mimalloc.realloc(small, 24, byteAlignment, byteSize);
                assertAligned(grown, byteAlignment, "realloc from 24 B" + what);
                blocks.addAll(List.of(address, zeroed, grown));
            }
            blocks.forEach(block -> mimalloc.dealloc(block, 0, 1));
            if (byteSize <= 1024 && byteAlignment >= 256) {
                System.out.println("mi_malloc_aligned(" + byteSize + ", " + byteAlignment + ") misaligned "
                        + misalignedByLibrary + " of 200 blocks; the allocator none");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {LibraryAllocator.JEMALLOC, LibraryAllocator.MIMALLOC})
    void reallocAlignsABlockAllocatedWithLessAlignment(String name) {
        NativeAllocator allocator = RequiredLibrary.require(name);
        for (long byteAlignment : new long[] {16, 64, 256, 4096}) {
            for (long newSize : new long[] {8, 24, 100, 1000, 100_000}) {
                long address = allocator.alloc(24, 1);
                Patterns.fill(address, 24, 5);
                long moved = allocator.realloc(address, 24, byteAlignment, newSize);
                assertAligned(moved, byteAlignment, name + " realloc of a 24-byte block to (" + newSize + ", " + byteAlignment + ")");
                Patterns.check(moved, Math.min(24, newSize), 5, name + " realloc kept content");
                allocator.dealloc(moved, newSize, byteAlignment);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {LibraryAllocator.JEMALLOC, LibraryAllocator.MIMALLOC})
    void loadedOnceNamedAndProcessWide(String name) throws InterruptedException {
        NativeAllocator allocator = RequiredLibrary.require(name);
        assertSame(allocator, (name.equals("jemalloc") ? LibraryAllocator.jemalloc() : LibraryAllocator.mimalloc()).orElseThrow());
        assertEquals(name, allocator.name());
        assertTrue(LibraryAllocator.loadFailure(name).isEmpty());
        assertTrue(allocator.toString().contains(name), allocator::toString);

        // process-wide: a block allocated on one thread is freed on another, and the segment is global
        long address = allocator.alloc(1000, 64);
        var segment = allocator.allocate(100);
        assertSame(Arena.global().scope(), segment.scope());
        Thread other = Thread.ofPlatform().start(() -> {
            allocator.dealloc(address, 1000, 64);
            allocator.free(segment);
        });
        other.join();
        allocator.close();
        long after = allocator.alloc(8, 8);
        assertNotEquals(0, after, "close() of a process-wide allocator ended it");
        allocator.dealloc(after, 8, 8);
    }

    @Test
    void loadFailureOfAnUnknownNameIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LibraryAllocator.loadFailure("tcmalloc"));
        assertTrue(e.getMessage().contains("jemalloc") && e.getMessage().contains("mimalloc"), e::getMessage);
    }

    @Test
    void aMissingLibraryIsExplainedWithItsPackage() {
        SharedLibrary missing = SharedLibrary.open("libsmalloc4j-missing.so.7", "libsmalloc4j-missing7");
        assertTrue(missing.notOpened());
        String why = missing.failure().orElseThrow();
        assertTrue(why.contains("libsmalloc4j-missing.so.7") && why.contains("is not installed")
                && why.contains("apt-get install libsmalloc4j-missing7"), why);
        assertEquals(null, missing.criticalDowncall("malloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG)));
    }

    @Test
    void aMissingSymbolIsExplained() {
        SharedLibrary libc = SharedLibrary.open("libc.so.6", "libc6");
        assertTrue(libc.failure().isEmpty());
        assertNotEquals(null, libc.criticalDowncall("malloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG)));
        assertEquals(null, libc.criticalDowncall("smalloc4j_no_such_function", FunctionDescriptor.ofVoid()));
        String why = libc.failure().orElseThrow();
        assertTrue(why.contains("has no symbol smalloc4j_no_such_function"), why);
    }

    /**
     * A JVM started without the glibc tunable cannot load jemalloc, and says what to set. Runs a small
     * program in a child JVM on this module, its environment without GLIBC_TUNABLES.
     */
    @Test
    void withoutTheTunableJemallocIsEmptyAndTheReasonSaysWhatToSet(@TempDir Path folder)
            throws IOException, InterruptedException {
        RequiredLibrary.require(LibraryAllocator.JEMALLOC); // installed, so only the TLS can fail
        Path program = folder.resolve("JemallocProbe.java");
        Files.writeString(program, """
                import java.util.logging.*;
                public class JemallocProbe {
                    public static void main(String[] args) {
                        Logger.getLogger("").setLevel(Level.OFF); // the reason is printed below, once
                        System.out.println("present=" + org.smalloc4j.LibraryAllocator.jemalloc().isPresent());
                        System.out.println("reason=" + org.smalloc4j.LibraryAllocator.loadFailure("jemalloc").orElse(""));
                        System.out.println("mimalloc=" + org.smalloc4j.LibraryAllocator.mimalloc().isPresent());
                    }
                }
                """);
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", System.getProperty("jdk.module.path"), "--add-modules", "org.smalloc4j",
                "--enable-native-access=org.smalloc4j", program.toString());
        builder.environment().remove("GLIBC_TUNABLES");
        builder.redirectErrorStream(true);
        Process child = builder.start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end");
        assertEquals(0, child.exitValue(), output);
        assertTrue(output.contains("present=false"), output);
        assertTrue(output.contains("static TLS") && output.contains("GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384")
                && output.contains("not set"), output);
        assertTrue(output.contains("mimalloc=true"), "mimalloc needs no tunable: " + output);
    }
}
