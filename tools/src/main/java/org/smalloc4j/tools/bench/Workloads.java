package org.smalloc4j.tools.bench;

import java.util.ArrayList;
import java.util.List;

/** The workloads {@code smalloc4j bench} knows, by name. Register new ones here. */
public final class Workloads {

    /** Every workload name, in the order the default run uses. */
    public static final List<String> NAMES = List.of("pairs", "mixed");

    private Workloads() {
    }

    /**
     * The workloads to run for the names given, in that order; {@code pairs} gives one workload per
     * size.
     *
     * @param pairSizes block sizes of the {@code pairs} workload
     * @param mixedSlots the live-block window per thread of the {@code mixed} workload
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public static List<Workload> create(List<String> names, List<Long> pairSizes, int mixedSlots) {
        List<Workload> workloads = new ArrayList<>();
        for (String name : names) {
            switch (name) {
                case "pairs" -> pairSizes.forEach(size -> workloads.add(new AllocFreePairs(size)));
                case "mixed" -> workloads.add(new MixedWorkload(mixedSlots));
                default -> throw new IllegalArgumentException("unknown workload '" + name + "'; known: "
                        + String.join(", ", NAMES));
            }
        }
        return workloads;
    }
}
