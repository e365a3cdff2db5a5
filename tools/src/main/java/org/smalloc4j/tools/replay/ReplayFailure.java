package org.smalloc4j.tools.replay;

import java.io.Serial;

/** A replay that could not be faithful: the allocator failed an operation, or a block lost its content. */
public final class ReplayFailure extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    /** @param message what happened, naming the trace, the allocator and the operation */
    public ReplayFailure(String message) {
        super(message);
    }
}
