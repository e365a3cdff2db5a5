package org.smalloc4j.tools.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The workloads {@code smalloc4j bench} knows, by name. Register new ones here. */
public final class Workloads {

    /** The workloads that take no parameters, in the order {@code --help} lists them. */
    private static final Map<String, Supplier<Workload>> PLAIN = new LinkedHashMap<>();

    static {
        register(AllocateWorkload::new);
        register(AllocDeallocWorkload::new);
        register(AllocDeallocReallocWorkload::new);
        register(AllocateWriteWorkload::new);
        register(AllocDeallocWriteWorkload::new);
        register(AllocDeallocReallocWriteWorkload::new);
        register(HotspotWorkload::new);
        register(FreeHotspotWorkload::new);
        register(XmallocWorkload::new);
        register(LarsonWorkload::new);
        register(CacheScratchWorkload::new);
        register(CacheThrashWorkload::new);
        register(GlibcSimpleWorkload::new);
        register(GlibcThreadWorkload::new);
        register(MstressWorkload::new);
    }

    /** Every workload name: pairs and mixed (the default run) first, then the others. */
    public static final List<String> NAMES;

    static {
        List<String> names = new ArrayList<>(List.of("pairs", "mixed"));
        names.addAll(PLAIN.keySet());
        NAMES = List.copyOf(names);
    }

    private Workloads() {
    }

    private static void register(Supplier<Workload> factory) {
        PLAIN.put(factory.get().name(), factory);
    }

    /** One line per workload for {@code --help}: its name and its description. */
    public static List<String> helpLines() {
        List<Workload> all = new ArrayList<>(List.of(new AllocFreePairs(16), new MixedWorkload(1)));
        PLAIN.values().forEach(factory -> all.add(factory.get()));
        int width = all.stream().mapToInt(w -> w.name().length()).max().orElse(0);
        List<String> lines = new ArrayList<>();
        for (Workload workload : all) {
            lines.add(String.format("  %-" + width + "s  %s", workload.name(), workload.description()));
        }
        return lines;
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
                default -> {
                    Supplier<Workload> factory = PLAIN.get(name);
                    if (factory == null) {
                        throw new IllegalArgumentException("unknown workload '" + name + "'; known: "
                                + String.join(", ", NAMES));
                    }
                    workloads.add(factory.get());
                }
            }
        }
        return workloads;
    }
}
