package org.smalloc4j.bench.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * One result of a JMH run, as its JSON output ({@code -rf json}) holds it, with the time converted to
 * nanoseconds per operation.
 *
 * @param benchmark the benchmark's full name, {@code org.….AllocFreeBenchmark.pair1T}
 * @param mode JMH's mode: {@code avgt}, {@code ss}, {@code sample}
 * @param threads the threads that ran it
 * @param params its {@code @Param} values by name, in JMH's order
 * @param nanosPerOp the score
 * @param errorNanos the half-width of JMH's 99.9 % confidence interval, NaN when JMH gives none
 *        (a single iteration)
 * @param bytesPerOp Java heap per operation from {@code -prof gc} ({@code gc.alloc.rate.norm}), NaN
 *        when the run had no {@code -prof gc}
 */
public record JmhResult(String benchmark, String mode, int threads, Map<String, String> params, double nanosPerOp,
        double errorNanos, double bytesPerOp) {

    /** The secondary metric of {@code -prof gc} that gives bytes of Java heap per operation. */
    static final String GC_NORM = "gc.alloc.rate.norm";

    public JmhResult {
        Objects.requireNonNull(benchmark, "benchmark");
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params)); // JMH's order, kept
    }

    /** The method's name: the part of {@link #benchmark()} after its last dot. */
    public String method() {
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }

    /** The class's simple name: {@code AllocFreeBenchmark}. */
    public String simpleClassName() {
        String owner = benchmark.substring(0, Math.max(benchmark.lastIndexOf('.'), 0));
        return owner.substring(owner.lastIndexOf('.') + 1);
    }

    /**
     * Reads JMH's JSON output.
     *
     * @param json the text of a file written with {@code -rf json}
     * @param source what to call it in messages (a file name)
     * @throws IllegalArgumentException if the text is not JMH's JSON, or a score is not a time per
     *         operation (throughput results cannot be compared as times: run with {@code -bm avgt})
     */
    public static List<JmhResult> parse(String json, String source) {
        JsonElement root;
        try {
            root = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(source + " is not JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonArray()) {
            throw new IllegalArgumentException(source + " is not JMH's JSON output (-rf json): it is not an array");
        }
        JsonArray entries = root.getAsJsonArray();
        List<JmhResult> results = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            results.add(parseEntry(entries.get(i), source + " entry " + i));
        }
        return results;
    }

    private static JmhResult parseEntry(JsonElement element, String where) {
        if (!element.isJsonObject()) {
            throw new IllegalArgumentException(where + " is not an object");
        }
        JsonObject entry = element.getAsJsonObject();
        String benchmark = string(entry, "benchmark", where);
        where = where + " (" + benchmark + ")";
        JsonObject primary = object(entry, "primaryMetric", where);
        String unit = string(primary, "scoreUnit", where);
        double toNanos = nanosPer(unit, where);
        Map<String, String> params = new LinkedHashMap<>();
        if (entry.has("params") && entry.get("params").isJsonObject()) {
            entry.getAsJsonObject("params").entrySet().forEach(e -> params.put(e.getKey(), e.getValue().getAsString()));
        }
        double bytesPerOp = Double.NaN;
        if (entry.has("secondaryMetrics") && entry.get("secondaryMetrics").isJsonObject()) {
            JsonObject secondary = entry.getAsJsonObject("secondaryMetrics");
            if (secondary.has(GC_NORM)) {
                bytesPerOp = number(object(secondary, GC_NORM, where), "score", where);
            }
        }
        int threads = entry.has("threads") ? entry.get("threads").getAsInt() : 1;
        String mode = entry.has("mode") ? entry.get("mode").getAsString() : "?";
        return new JmhResult(benchmark, mode, threads, params, number(primary, "score", where) * toNanos,
                number(primary, "scoreError", where) * toNanos, bytesPerOp);
    }

    /** Nanoseconds in the time unit of a score such as {@code us/op}. */
    private static double nanosPer(String unit, String where) {
        return switch (unit) {
            case "ns/op" -> 1;
            case "us/op" -> 1e3;
            case "ms/op" -> 1e6;
            case "s/op" -> 1e9;
            case "min/op" -> 60e9;
            default -> throw new IllegalArgumentException(where + ": the score's unit '" + unit
                    + "' is not a time per operation; run the benchmarks with -bm avgt (or ss)");
        };
    }

    private static String string(JsonObject object, String name, String where) {
        JsonElement value = object.get(name);
        if (value == null || !value.isJsonPrimitive()) {
            throw new IllegalArgumentException(where + " has no '" + name + "'");
        }
        return value.getAsString();
    }

    private static JsonObject object(JsonObject object, String name, String where) {
        JsonElement value = object.get(name);
        if (value == null || !value.isJsonObject()) {
            throw new IllegalArgumentException(where + " has no '" + name + "' object");
        }
        return value.getAsJsonObject();
    }

    /** A number, which JMH writes as the string {@code "NaN"} when it has none. */
    private static double number(JsonObject object, String name, String where) {
        JsonElement value = object.get(name);
        if (value == null || !value.isJsonPrimitive()) {
            throw new IllegalArgumentException(where + " has no '" + name + "'");
        }
        try {
            return value.getAsDouble();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": '" + name + "' is " + value + ", not a number", e);
        }
    }
}
