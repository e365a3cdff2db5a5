package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A library allocator that the tests need: in CI ({@code CI=true}) a missing one fails the tests,
 * because {@code .ci/run} installs the libraries ({@code .ci/install-libs}); elsewhere the tests that
 * need it are skipped, each with the reason.
 */
final class RequiredLibrary {

    private RequiredLibrary() {
    }

    /**
     * Marks a test class whose tests need the library allocator {@link #value()}: outside CI they are
     * skipped, one by one with the reason, when it cannot load. In CI they run, and fail.
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @ExtendWith(SkipOutsideCi.class)
    @interface Needs {
        /** {@code "jemalloc"} or {@code "mimalloc"}. */
        String value();
    }

    /** The condition behind {@link Needs}. */
    static final class SkipOutsideCi implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (context.getTestMethod().isEmpty()) {
                return ConditionEvaluationResult.enabled("decided per test");
            }
            String name = context.getRequiredTestClass().getAnnotation(Needs.class).value();
            if (allocator(name).isPresent() || inCi()) {
                return ConditionEvaluationResult.enabled(name + " is loaded, or this is CI");
            }
            return ConditionEvaluationResult.disabled(skipReason(name));
        }
    }

    /** Fails in CI when the library allocator cannot load; elsewhere does nothing (see {@link Needs}). */
    static void failInCiIfMissing(String name) {
        if (allocator(name).isEmpty() && inCi()) {
            fail(name + " must load in CI, where .ci/run installs it (.ci/install-libs): "
                    + LibraryAllocator.loadFailure(name).orElse("no reason given"));
        }
    }

    /** The allocator, or a failed test in CI, or an aborted (skipped) test elsewhere. */
    static NativeAllocator require(String name) {
        Optional<NativeAllocator> allocator = allocator(name);
        if (allocator.isPresent()) {
            return allocator.get();
        }
        String why = LibraryAllocator.loadFailure(name).orElse("no reason given");
        if (inCi()) {
            fail(name + " must load in CI, where .ci/run installs it (.ci/install-libs): " + why);
        }
        Assumptions.abort(skipReason(name));
        throw new AssertionError("unreachable");
    }

    private static Optional<NativeAllocator> allocator(String name) {
        return switch (name) {
            case LibraryAllocator.JEMALLOC -> LibraryAllocator.jemalloc();
            case LibraryAllocator.MIMALLOC -> LibraryAllocator.mimalloc();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static boolean inCi() {
        return "true".equals(System.getenv("CI"));
    }

    private static String skipReason(String name) {
        return name + " is not available, so this test is skipped (.ci/install-libs installs it): "
                + LibraryAllocator.loadFailure(name).orElse("no reason given");
    }
}
