package org.smalloc4j.tools.replay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's resident set, {@code VmRSS} of {@code /proc/self/status} (Linux). */
final class ResidentSet {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentSet() {
    }

    /** Resident bytes now, or -1 where {@code /proc/self/status} has no {@code VmRSS} line. */
    static long bytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) { // "VmRSS:	   123456 kB"
                    String kib = line.substring("VmRSS:".length()).replace("kB", "").strip();
                    return Long.parseLong(kib) * 1024;
                }
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
