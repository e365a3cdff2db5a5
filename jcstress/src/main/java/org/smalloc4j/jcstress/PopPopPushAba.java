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
import org.openjdk.jcstress.infra.results.IIIII_Result;
import org.smalloc4j.internal.SlabHeap;

/**
 * The ABA race the head word's push counter is there to stop. The list is A=0 -> B=1 -> C=2 -> end.
 * Actor 1 pops twice and pushes its first slot back; actor 2 pops once. Without the counter, actor 2
 * could read head A with next B, sleep while actor 1 pops A, pops B and pushes A, then swing the head
 * from A to B: B would be handed to actor 2 while actor 1 holds it, and stay on the list too.
 *
 * <p>Results: actor 1's first slot, its second slot (held to the end), actor 2's slot, the slots
 * left on the list afterwards (one bit each; -1 for a cycle), whether actor 2 lost a CAS.
 */
@JCStressTest
@Description("pop A, pop B, push A against a concurrent pop: B is never handed out twice")
@Outcome(id = "1, 2, 0, 2, 0", expect = ACCEPTABLE, desc = "actor 2 popped first and got A")
@Outcome(id = "0, 2, 1, 1, [01]", expect = ACCEPTABLE, desc = "actor 2 popped between actor 1's pops and got B")
@Outcome(id = "0, 1, 2, 1, [01]", expect = ACCEPTABLE, desc = "actor 2 popped before the push and got C")
@Outcome(id = "0, 1, 0, 4, 0", expect = ACCEPTABLE, desc = "actor 2 popped after the push and got A back")
@Outcome(id = "0, 1, 0, 4, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "actor 2 read a head that changed under it (the ABA window if it read A before the pops), "
                + "its CAS failed, it retried and got A")
@Outcome(id = "0, 1, 1, .*", expect = FORBIDDEN, desc = "ABA: B handed to actor 2 while actor 1 holds it")
@Outcome(expect = FORBIDDEN, desc = "a slot handed out twice, lost, or left on the list while held")
@State
public class PopPopPushAba {

    private static final int SIZE_CLASS = TinySlab.FOUR_SLOTS;

    private final TinySlab slab = new TinySlab();

    public PopPopPushAba() {
        for (int i = 0; i < 4; i++) {
            slab.popAlone(SIZE_CLASS); // slots 0..3 touched; slot 3 stays out for good
        }
        slab.push(SIZE_CLASS, 2);
        slab.push(SIZE_CLASS, 1);
        slab.push(SIZE_CLASS, 0);
    }

    @Actor
    public void popPopPush(IIIII_Result r) {
        int a = popRetrying();
        int b = popRetrying();
        if (a >= 0) {
            slab.push(SIZE_CLASS, a);
        }
        r.r1 = a;
        r.r2 = b;
    }

    @Actor
    public void pop(IIIII_Result r) {
        int lost = 0;
        long popped;
        while ((popped = slab.popOnce(SIZE_CLASS)) == SlabHeap.CONTENDED) {
            lost = 1;
        }
        r.r3 = (int) popped;
        r.r5 = lost;
    }

    @Arbiter
    public void freeList(IIIII_Result r) {
        r.r4 = slab.drain(SIZE_CLASS);
    }

    private int popRetrying() {
        long popped;
        while ((popped = slab.popOnce(SIZE_CLASS)) == SlabHeap.CONTENDED) {
            Thread.onSpinWait();
        }
        return (int) popped;
    }
}
