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

    /** The allocator returned 0 for a request it should meet. */
    static BenchFailure exhausted(Workload workload, NativeAllocator allocator, long byteSize) {
        return new BenchFailure(workload.name() + ": allocator '" + allocator.name() + "' returned 0 for "
                + byteSize + " bytes");
    }
}
