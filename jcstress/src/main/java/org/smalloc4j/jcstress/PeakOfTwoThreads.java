package org.smalloc4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;
import org.smalloc4j.internal.TrackingCounters;

/**
 * The batched peak of a counters-only TrackingAllocator (TrackingCounters): two threads each grow
 * their live bytes by 100 KiB, more than a batch, so each publishes all but half a batch (69632 bytes)
 * and then checks {@code published + its unpublished 32768} against the peak. Whichever reads
 * {@code published} second sees both batches, so the peak is 2 * 69632 + 32768 = 172032: short of
 * the true 204800 by the other thread's unpublished half batch, within the documented bound of one
 * batch per other thread. A peak of 102400 would mean both reads missed the other's batch, which
 * the volatile read after the atomic add rules out. Results: peak, live bytes.
 */
@JCStressTest
@Description("Two threads grow by more than a batch: the later check sees both published batches")
@Outcome(id = "172032, 204800", expect = ACCEPTABLE, desc = "the second check saw both batches")
@Outcome(id = "102400, 204800", expect = FORBIDDEN,
        desc = "each check missed the other's batch: below the bound of one batch per other thread")
@Outcome(expect = FORBIDDEN, desc = "live bytes lost, or a peak that never was")
@State
public class PeakOfTwoThreads {

    private static final long GROWTH = 100 * 1024;

    private final TrackingCounters counters = new TrackingCounters();

    private void grow() {
        counters.allocated(GROWTH);
    }

    @Actor
    public void actor1() {
        grow();
    }

    @Actor
    public void actor2() {
        grow();
    }

    @Arbiter
    public void arbiter(JJ_Result r) {
        r.r1 = counters.peakBytes();
        r.r2 = counters.liveBytes();
    }
}
