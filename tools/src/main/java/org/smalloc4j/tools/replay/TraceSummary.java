package org.smalloc4j.tools.replay;

/**
 * What a replay reports about its trace, counted from the trace alone.
 *
 * @param file the trace file
 * @param tracedAllocator the allocator the trace was recorded on, from its header ("tracking:smalloc")
 * @param complete did the trace end with its END record (false: replayed up to a cut)
 * @param operations alloc, allocZeroed, realloc and free records: what a replay performs
 * @param blocks blocks the trace creates
 * @param threads threads that recorded (the replay runs them all on one thread, in trace order)
 * @param failedRecords requests that failed when recorded; they changed nothing and are not replayed
 * @param peakLiveBytes the most bytes live at once (sizes as requested)
 * @param peakLiveOp the number of operations after which that peak is first reached
 * @param endLiveBytes bytes live after the last operation (blocks the program never freed)
 */
public record TraceSummary(String file, String tracedAllocator, boolean complete, long operations, long blocks,
        int threads, long failedRecords, long peakLiveBytes, long peakLiveOp, long endLiveBytes) {
}
