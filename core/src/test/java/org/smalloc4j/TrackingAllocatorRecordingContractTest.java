package org.smalloc4j;

import java.nio.file.Path;
import java.util.OptionalLong;

import org.junit.jupiter.api.io.TempDir;

/**
 * The contract on a recording tracker (stacks and a trace) over libc: it knows every block it handed
 * out, so it rejects foreign and interior pointers that libc alone cannot tell.
 */
class TrackingAllocatorRecordingContractTest extends AllocatorContract {

    @TempDir
    Path traces;

    @Override
    protected NativeAllocator createAllocator() {
        return TrackingAllocator.builder(new SystemAllocator()).recordStacks(true)
                .traceTo(traces.resolve("contract.trace")).build();
    }

    @Override
    protected boolean closable() {
        return true;
    }

    @Override
    protected boolean segmentsDieAtClose() {
        return false; // libc's segments have the global scope
    }

    @Override
    protected boolean detectsForeignPointers() {
        return true; // the tracker checks every address against its live blocks before libc sees it
    }

    @Override
    protected OptionalLong liveBlocks() {
        TrackingAllocator tracking = (TrackingAllocator) allocator();
        return OptionalLong.of(tracking.liveBlocks().size());
    }
}
