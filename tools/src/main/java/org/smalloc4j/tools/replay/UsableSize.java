package org.smalloc4j.tools.replay;

import java.util.Optional;
import java.util.function.LongUnaryOperator;

import org.smalloc4j.LibraryAllocator;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SystemAllocator;
import org.smalloc4j.TrackingAllocator;

/** The usable size of a block, for the allocators that can tell it. */
final class UsableSize {

    private UsableSize() {
    }

    /**
     * {@code usableSize(address)} of Smalloc, libc, jemalloc and mimalloc, also behind a tracker (which
     * hands out its inner allocator's addresses); empty for the others (a bump arena), which have no
     * such query.
     */
    static Optional<LongUnaryOperator> of(NativeAllocator allocator) {
        return switch (allocator) {
            case Smalloc smalloc -> Optional.of(smalloc::usableSize);
            case SystemAllocator system -> Optional.of(system::usableSize);
            case LibraryAllocator library -> Optional.of(library::usableSize);
            case TrackingAllocator tracking -> of(tracking.inner());
            default -> Optional.empty();
        };
    }
}
