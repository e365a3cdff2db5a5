package org.smalloc4j.tools.bench;

import org.smalloc4j.NativeAllocator;

/** An allocator got something wrong under a workload: it returned 0, or a block lost its content. */
public final class BenchFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BenchFailure(String message) {
        super(message);
    }

    public BenchFailure(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Throws the first failure of a case, if there was one: a {@code BenchFailure} as it is, anything
     * else wrapped in one that names the workload and the allocator.
     */
    public static void throwIfFailed(Throwable first, Workload workload, String allocatorName) {
        if (first instanceof BenchFailure benchFailure) {
            throw benchFailure;
        }
        if (first != null) {
            throw new BenchFailure(workload.name() + " on '" + allocatorName + "' failed: " + first, first);
        }
    }

    /** The allocator returned 0 for a request it should meet. */
    static BenchFailure exhausted(Workload workload, NativeAllocator allocator, long byteSize) {
        return new BenchFailure(workload.name() + ": allocator '" + allocator.name() + "' returned 0 for "
                + byteSize + " bytes");
    }
}
