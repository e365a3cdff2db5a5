package org.smalloc4j.tools.replay;

import java.io.IOException;
import java.nio.file.Path;

import org.smalloc4j.Allocators;
import org.smalloc4j.NativeAllocator;

/**
 * The child JVM of {@link ReplayProcess}: loads a trace, replays it on one allocator
 * ({@link ReplayEngine#replay}) and writes the {@link AllocatorReplay} as JSON. Resident memory is
 * only comparable between allocators when each starts from a fresh process: this is that process.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp … org.smalloc4j.tools.replay.ReplayWorker \
 *      TRACE ALLOCATOR WARMUP REPEAT SAMPLE_EVERY THREADS_AS_RECORDED ALLOW_INCOMPLETE \
 *      RESULT_JSON
 * </pre>
 *
 * Exit code 0 with the result written; 1 with the reason on standard error.
 */
public final class ReplayWorker {

    private ReplayWorker() {
    }

    /** Runs one replay; see the class comment for the arguments. */
    public static void main(String[] args) {
        try {
            if (args.length != 8) {
                throw new IllegalArgumentException("ReplayWorker takes TRACE ALLOCATOR WARMUP REPEAT SAMPLE_EVERY"
                        + " THREADS_AS_RECORDED ALLOW_INCOMPLETE RESULT_JSON, got " + args.length + " arguments");
            }
            Path trace = Path.of(args[0]);
            String allocatorName = args[1];
            ReplaySettings settings = new ReplaySettings(Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), Boolean.parseBoolean(args[5]));
            boolean allowIncomplete = Boolean.parseBoolean(args[6]);
            Path result = Path.of(args[7]);

            ReplayTrace loaded = ReplayTrace.load(trace, allowIncomplete);
            NativeAllocator allocator = Allocators.named(allocatorName);
            AllocatorReplay replay = new ReplayEngine(loaded).replay(allocatorName, allocator, settings);
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
