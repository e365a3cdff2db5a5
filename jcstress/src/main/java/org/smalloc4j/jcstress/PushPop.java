package org.smalloc4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.smalloc4j.internal.SlabHeap;

/**
 * A cross-thread free: actor 1 pushes slot 0, which it holds, while actor 2 pops from the list
 * 1 -> 2 -> end. The link actor 1 writes into slot 0 is a plain store published by the release of
 * its CAS; if actor 2 saw the new head without that link it would follow garbage.
 *
 * <p>Results: actor 2's slot, the slots left on the list afterwards (one bit each; -1 for a cycle),
 * whether actor 2 lost a CAS.
 */
@JCStressTest
@Description("push of a slot freed by another thread against a pop: the pop gets the pushed slot or the old head")
@Outcome(id = "0, 6, 0", expect = ACCEPTABLE, desc = "pop after the push: got the pushed slot; 1, 2 left")
@Outcome(id = "1, 5, 0", expect = ACCEPTABLE, desc = "pop before the push: got the old head; 0, 2 left")
@Outcome(id = {"0, 6, 1", "1, 5, 1"}, expect = ACCEPTABLE_INTERESTING,
        desc = "the push landed between the pop's read and its CAS; the pop retried")
@Outcome(expect = FORBIDDEN, desc = "garbage: a slot neither pushed nor at the head, or the list lost or doubled a slot")
@State
public class PushPop {

    private static final int SIZE_CLASS = TinySlab.FOUR_SLOTS;

    private final TinySlab slab = new TinySlab();

    public PushPop() {
        for (int i = 0; i < 4; i++) {
            slab.popAlone(SIZE_CLASS); // slots 0..3 touched; 0 goes back in the race, 3 stays out
        }
        slab.push(SIZE_CLASS, 2);
        slab.push(SIZE_CLASS, 1);
    }

    @Actor
    public void free() {
        slab.push(SIZE_CLASS, 0);
    }

    @Actor
    public void pop(III_Result r) {
        int lost = 0;
        long popped;
        while ((popped = slab.popOnce(SIZE_CLASS)) == SlabHeap.CONTENDED) {
            lost = 1;
        }
        r.r1 = (int) popped;
        r.r3 = lost;
    }

    @Arbiter
    public void freeList(III_Result r) {
        r.r2 = slab.drain(SIZE_CLASS);
    }
}
