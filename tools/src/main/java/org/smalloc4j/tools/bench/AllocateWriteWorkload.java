package org.smalloc4j.tools.bench;

/**
 * {@code aww}: allocate and write. As {@code a}, but each new block gets two writes while timed: a
 * tag in its first word and the tag's complement in its last; both are checked when the blocks are
 * freed outside the timing. One operation is one allocation with its two writes.
 */
public final class AllocateWriteWorkload extends WindowWorkload {

    @Override
    public String name() {
        return "aww";
    }

    @Override
    public String description() {
        return "as a, plus two writes per block (first, last word); op = alloc+writes";
    }

    @Override
    boolean writes() {
        return true;
    }
}
