package org.smalloc4j.tools.replay;

import java.io.IOException;
import java.nio.file.Path;

import org.smalloc4j.Allocators;
import org.smalloc4j.NativeAllocator;
import org.smalloc4j.Smalloc;
import org.smalloc4j.SmallocStats;

/**
 * The child JVM of {@link ReplayProcess}: loads a trace, replays it on one allocator
 * ({@link ReplayEngine#replay}) and writes the {@link AllocatorReplay} as JSON. Resident memory is
 * only comparable between allocators when each starts from a fresh process: this is that process.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp … org.smalloc4j.tools.replay.ReplayWorker \
 *      TRACE ALLOCATOR WARMUP REPEAT SAMPLE_EVERY THREADS_AS_RECORDED ALLOW_INCOMPLETE \
 *      RESULT_JSON [STATS_AT_PEAK_JSON]
 * </pre>
 *
 * With {@code STATS_AT_PEAK_JSON}, the allocator must be a {@link Smalloc} heap: its
 * {@link Smalloc#stats()} taken at the trace's peak live bytes (during the measured pass) are written
 * there as JSON too.
 *
 * Exit code 0 with the result written; 1 with the reason on standard error.
 */
public final class ReplayWorker {

    private ReplayWorker() {
    }

    /** Runs one replay; see the class comment for the arguments. */
    public static void main(String[] args) {
        try {
            if (args.length != 8 && args.length != 9) {
                throw new IllegalArgumentException("ReplayWorker takes TRACE ALLOCATOR WARMUP REPEAT SAMPLE_EVERY"
                        + " THREADS_AS_RECORDED ALLOW_INCOMPLETE RESULT_JSON [STATS_AT_PEAK_JSON], got " + args.length
                        + " arguments");
            }
            Path trace = Path.of(args[0]);
            String allocatorName = args[1];
            ReplaySettings settings = new ReplaySettings(Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), Boolean.parseBoolean(args[5]));
            boolean allowIncomplete = Boolean.parseBoolean(args[6]);
            Path result = Path.of(args[7]);
            Path statsAtPeak = args.length == 9 ? Path.of(args[8]) : null;

            ReplayTrace loaded = ReplayTrace.load(trace, allowIncomplete);
            NativeAllocator allocator = Allocators.named(allocatorName);
            ReplayEngine engine = new ReplayEngine(loaded);
            if (statsAtPeak == null) {
                ReplayJson.write(result, engine.replay(allocatorName, allocator, settings));
                return;
            }
            if (!(allocator instanceof Smalloc smalloc)) {
                throw new IllegalArgumentException("stats at the peak need a Smalloc heap, but '" + allocatorName
                        + "' is " + allocator.getClass().getSimpleName());
            }
            SmallocStats[] atPeak = new SmallocStats[1];
            AllocatorReplay replay = engine.replay(allocatorName, allocator, settings, () -> atPeak[0] = smalloc.stats());
            ReplayJson.write(statsAtPeak, atPeak[0]);
            ReplayJson.write(result, replay);
        } catch (IOException | ReplayFailure | IllegalArgumentException | IllegalStateException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
    }
}
