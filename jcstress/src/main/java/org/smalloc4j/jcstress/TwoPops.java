package org.smalloc4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.smalloc4j.internal.SlabHeap;

/**
 * Two threads pop from a slab with two free slots: they never get the same slot. Results: slot of
 * actor 1, slot of actor 2, CAS lost by actor 1 (0/1), CAS lost by actor 2. An actor that loses a
 * compare-and-set retries, as {@code SlabHeap.allocate} does, until it gets a slot or EMPTY (-1).
 */
public final class TwoPops {

    private TwoPops() {
    }

    /** Pops until a slot or EMPTY; the slot number into one result, whether a CAS was lost into another. */
    static int popRetrying(TinySlab slab, int sizeClass, int[] lost, int actor) {
        for (;;) {
            long popped = slab.popOnce(sizeClass);
            if (popped != SlabHeap.CONTENDED) {
                return (int) popped;
            }
            lost[actor] = 1;
        }
    }

    @JCStressTest
    @Description("Two pops of two never-touched slots (the untouched end of the list moves on)")
    @Outcome(id = {"0, 1, 0, 0", "1, 0, 0, 0"}, expect = ACCEPTABLE, desc = "each thread got its own slot")
    @Outcome(id = "(0, 1|1, 0), (1, 0|0, 1)", expect = ACCEPTABLE_INTERESTING,
            desc = "one CAS lost to the other thread; the loser retried and got the other slot")
    @Outcome(id = "(\\d+), \\1, .*", expect = FORBIDDEN, desc = "both threads got the same slot")
    @Outcome(expect = FORBIDDEN, desc = "a slot lost or invented (EMPTY with a slot still free)")
    @State
    public static class Fresh {
        private final TinySlab slab = new TinySlab();
        private final int[] lost = new int[2];

        @Actor
        public void actor1(IIII_Result r) {
            r.r1 = popRetrying(slab, TinySlab.TWO_SLOTS, lost, 0);
            r.r3 = lost[0];
        }

        @Actor
        public void actor2(IIII_Result r) {
            r.r2 = popRetrying(slab, TinySlab.TWO_SLOTS, lost, 1);
            r.r4 = lost[1];
        }
    }

    @JCStressTest
    @Description("Two pops of two freed slots, 0 -> 1 -> end (links read from the slots)")
    @Outcome(id = {"0, 1, 0, 0", "1, 0, 0, 0"}, expect = ACCEPTABLE, desc = "each thread got its own slot")
    @Outcome(id = "(0, 1|1, 0), (1, 0|0, 1)", expect = ACCEPTABLE_INTERESTING,
            desc = "one CAS lost to the other thread; the loser retried and got the other slot")
    @Outcome(id = "(\\d+), \\1, .*", expect = FORBIDDEN, desc = "both threads got the same slot")
    @Outcome(expect = FORBIDDEN, desc = "a slot lost or invented (EMPTY with a slot still free)")
    @State
    public static class Freed {
        private final TinySlab slab = new TinySlab();
        private final int[] lost = new int[2];

        public Freed() {
            int first = slab.popAlone(TinySlab.TWO_SLOTS);
            int second = slab.popAlone(TinySlab.TWO_SLOTS);
            slab.push(TinySlab.TWO_SLOTS, second);
            slab.push(TinySlab.TWO_SLOTS, first); // the list is now first -> second -> end, all touched
        }

        @Actor
        public void actor1(IIII_Result r) {
            r.r1 = popRetrying(slab, TinySlab.TWO_SLOTS, lost, 0);
            r.r3 = lost[0];
        }

        @Actor
        public void actor2(IIII_Result r) {
            r.r2 = popRetrying(slab, TinySlab.TWO_SLOTS, lost, 1);
            r.r4 = lost[1];
        }
    }
}
