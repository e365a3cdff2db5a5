package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Optional;

import org.junit.jupiter.api.Assumptions;

/**
 * A library allocator that the tests need: in CI ({@code CI=true}) a missing one fails the tests,
 * because {@code .ci/run} installs the libraries ({@code .ci/install-libs}); elsewhere its tests are
 * skipped with the reason.
 */
final class RequiredLibrary {

    private RequiredLibrary() {
    }

    static NativeAllocator require(String name) {
        Optional<NativeAllocator> allocator = switch (name) {
            case LibraryAllocator.JEMALLOC -> LibraryAllocator.jemalloc();
            case LibraryAllocator.MIMALLOC -> LibraryAllocator.mimalloc();
            default -> throw new IllegalArgumentException(name);
        };
        if (allocator.isPresent()) {
            return allocator.get();
        }
        String why = LibraryAllocator.loadFailure(name).orElse("no reason given");
        if ("true".equals(System.getenv("CI"))) {
            fail(name + " must load in CI, where .ci/run installs it (.ci/install-libs): " + why);
        }
        Assumptions.abort(name + " is not available, so its tests are skipped (.ci/install-libs installs it): " + why);
        throw new AssertionError("unreachable");
    }
}
