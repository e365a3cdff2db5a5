package org.smalloc4j.tools;

import java.util.List;

import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SystemAllocator;

/**
 * The allocators the tools can name on the command line. When core's {@code Allocators.named}
 * lands, this becomes a call to it (and jemalloc and mimalloc come with it).
 */
final class AllocatorChoice {

    /** Every name, in the order the default run uses. */
    static final List<String> NAMES = List.of("smalloc", "system");

    private AllocatorChoice() {
    }

    /**
     * The allocator called {@code name}: {@code smalloc} is {@link Smalloc#global()}, {@code system}
     * is libc's.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    static NativeAllocator named(String name) {
        return switch (name) {
            case "smalloc" -> Smalloc.global();
            case "system" -> new SystemAllocator();
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "'; known: "
                    + String.join(", ", NAMES));
        };
    }
}
