package org.smalloc4j.tools.replay;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.smalloc4j.LibraryAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;

/**
 * Runs a replay in a child JVM of its own ({@link ReplayWorker}), so that each allocator's resident
 * memory grows from a fresh process: the same {@code java} binary as this process, its class path,
 * its native-access and assertion flags (or {@code --enable-native-access=ALL-UNNAMED} when it has
 * none, as under {@code java -jar}, whose manifest grants it), and an environment with jemalloc's
 * {@code GLIBC_TUNABLES} setting added when missing.
 *
 * <p>The child's Java heap is fixed and touched at start ({@code -Xms = -Xmx}, sized from the trace
 * trace, and {@code -XX:+AlwaysPreTouch}), so that the Java heap's growth during the replay does not
 * count as the allocator's resident memory: measured on a 20 MB-peak trace, the JVM's own growth
 * fell from about 11 MiB to about 3 MiB (what remains is mostly the JIT's compiled code and arenas).
 */
public final class ReplayProcess {

    private ReplayProcess() {
    }

    /**
     * Replays {@code trace} on {@code allocator} in a child JVM and returns what it measured.
     *
     * @param summary the trace's summary, from a {@link ReplayTrace} loaded here: it sizes the child's heap
     * @param workDir where the child writes its result and its log
     * @throws ReplayFailure if the child fails (its standard error is in the message)
     */
    public static AllocatorReplay run(Path trace, TraceSummary summary, String allocator, ReplaySettings settings,
            boolean allowIncomplete, Path workDir) throws IOException, InterruptedException {
        return run(trace, summary, allocator, settings, allowIncomplete, workDir, false).replay();
    }

    /**
     * What a child measured, and the heap's stats at the trace's peak when they were asked for.
     *
     * @param replay what the child measured
     * @param statsAtPeak {@link Smalloc#stats()} right after the operation that first reached the
     *        trace's peak live bytes; empty unless asked for
     */
    public record Outcome(AllocatorReplay replay, Optional<SmallocStats> statsAtPeak) {
    }

    /**
     * {@link #run(Path, TraceSummary, String, ReplaySettings, boolean, Path)}, and with
     * {@code statsAtPeak} the heap's stats at the trace's peak live bytes as well, taken in the child
     * during its measured pass ({@link ReplayEngine#replay(String, org.smalloc4j.NativeAllocator,
     * ReplaySettings, Runnable)}): then {@code allocator} must name a {@link Smalloc} heap
     * ({@code smalloc}), or the child fails.
     *
     * @throws ReplayFailure if the child fails (its standard error is in the message)
     */
    public static Outcome run(Path trace, TraceSummary summary, String allocator, ReplaySettings settings,
            boolean allowIncomplete, Path workDir, boolean statsAtPeak) throws IOException, InterruptedException {
        String fileName = allocator.replaceAll("[^A-Za-z0-9_-]", "_");
        Path result = workDir.resolve(fileName + ".json");
        Path stats = workDir.resolve(fileName + "-stats-at-peak.json");
        Path log = workDir.resolve(fileName + ".log");
        Files.deleteIfExists(result);
        Files.deleteIfExists(stats);
        List<String> command = new ArrayList<>(jvm());
        long heapMiB = heapMiB(summary.operations(), summary.blocks());
        command.addAll(1, List.of("-Xms" + heapMiB + "m", "-Xmx" + heapMiB + "m", "-XX:+AlwaysPreTouch"));
        command.addAll(List.of(ReplayWorker.class.getName(), trace.toAbsolutePath().toString(), allocator,
                Integer.toString(settings.warmup()), Integer.toString(settings.repeat()),
                Integer.toString(settings.sampleEvery()), Boolean.toString(settings.threadsAsRecorded()),
                Boolean.toString(allowIncomplete),
                result.toAbsolutePath().toString()));
        if (statsAtPeak) {
            command.add(stats.toAbsolutePath().toString());
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        addStaticTlsTunable(builder.environment());
        int exitCode = builder.start().waitFor();
        if (exitCode != 0 || !Files.exists(result) || (statsAtPeak && !Files.exists(stats))) {
            throw new ReplayFailure("replay on '" + allocator + "' failed in its own JVM (exit code " + exitCode + "): "
                    + Files.readString(log, StandardCharsets.UTF_8).strip());
        }
        return new Outcome(ReplayJson.readAllocatorReplay(result),
                statsAtPeak ? Optional.of(ReplayJson.readStats(stats)) : Optional.empty());
    }

    /** The java binary, the JVM flags to pass on and the class path: a command up to the main class. */
    static List<String> jvm() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java));
        boolean nativeAccess = false;
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--enable-native-access") || argument.startsWith("--illegal-native-access")
                    || argument.equals("-ea") || argument.equals("-enableassertions")) {
                command.add(argument);
                nativeAccess |= argument.startsWith("--enable-native-access");
            }
        }
        if (!nativeAccess) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        return command;
    }

    /**
     * A Java heap for a worker replaying a trace of {@code operations} on {@code blocks}: 64 MiB for
     * the JVM, plus 64 bytes per operation (the loaded trace holds 18, up to three times that while its
     * arrays grow, and 4 more to split them by thread) and 48 per block (24 while loading, 24 in the
     * engine).
     */
    static long heapMiB(long operations, long blocks) {
        return 64 + ((64 * operations + 48 * blocks) >> 20) + 1;
    }

    /** jemalloc loads into a JVM only with static TLS reserved at start: the child gets the setting. */
    private static void addStaticTlsTunable(Map<String, String> environment) {
        String setting = LibraryAllocator.jemallocEnvironment(); // "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=…"
        String tunable = setting.substring(setting.indexOf('=') + 1);
        String tunables = environment.get("GLIBC_TUNABLES");
        if (tunables == null || tunables.isEmpty()) {
            environment.put("GLIBC_TUNABLES", tunable);
        } else if (!tunables.contains("glibc.rtld.optional_static_tls")) {
            environment.put("GLIBC_TUNABLES", tunables + ":" + tunable);
        }
    }
}
