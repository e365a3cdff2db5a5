package org.smalloc4j.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident set now, {@code VmRSS} of {@code /proc/self/status} (Linux): what replay and
 * soak sample. {@link PeakRss} reads the peak of it.
 */
public final class ResidentSet {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentSet() {
    }

    /** Resident bytes now, or -1 where {@code /proc/self/status} cannot be read or has no {@code VmRSS} line. */
    public static long bytes() {
        try {
            return PeakRss.statusBytes(Files.readString(STATUS), "VmRSS");
        } catch (IOException | IllegalStateException e) {
            return -1;
        }
    }
}
