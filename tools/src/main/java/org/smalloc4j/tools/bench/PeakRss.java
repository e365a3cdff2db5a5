package org.smalloc4j.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The growth of this process's peak resident set during a case, from Linux's {@code /proc/self}:
 * {@link #resetPeak()} writes {@code 5} to {@code clear_refs}, which sets the peak ({@code VmHWM}) back
 * to the current resident set, and reads that ({@code VmRSS}); {@link #growthSince} reads {@code VmHWM}
 * after the case and subtracts. The figure is of the whole JVM: Java heap, JIT code and thread stacks
 * count along with the allocator's memory, and memory an allocator kept from an earlier case is not
 * counted again.
 *
 * <p>Where {@code clear_refs} cannot be written (not Linux, a kernel before 4.0, a locked-down
 * container), the peak cannot be reset, so a figure would be the peak since the JVM started: this
 * class then reports itself {@linkplain #unavailableReason() unavailable} and gives no figures.
 */
public final class PeakRss {

    /** What {@code clear_refs} takes to reset the peak resident set (see proc(5)). */
    private static final String RESET_PEAK = "5";

    private final Path clearRefs;
    private final Path status;
    private final String unavailableReason;   // null when figures can be had

    private PeakRss(Path procSelf) {
        this.clearRefs = procSelf.resolve("clear_refs");
        this.status = procSelf.resolve("status");
        this.unavailableReason = probe();
    }

    /** This process's peak RSS, through {@code /proc/self}. */
    public static PeakRss ofThisProcess() {
        return of(Path.of("/proc/self"));
    }

    /** Through a folder laid out as {@code /proc/self} (for tests: a folder without a writable {@code clear_refs}). */
    static PeakRss of(Path procSelf) {
        return new PeakRss(procSelf);
    }

    /** Tries a reset and a read once: the reason figures cannot be had, or null. */
    private String probe() {
        try {
            Files.writeString(clearRefs, RESET_PEAK);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return "cannot write " + clearRefs + " (" + e + "), so the peak cannot be reset between cases";
        }
        try {
            String text = Files.readString(status);
            statusBytes(text, "VmRSS");
            statusBytes(text, "VmHWM");
        } catch (IOException | IllegalStateException e) {
            return "cannot read VmRSS and VmHWM from " + status + " (" + e.getMessage() + ")";
        }
        return null;
    }

    /** Can figures be had? */
    public boolean available() {
        return unavailableReason == null;
    }

    /** Why figures cannot be had; empty when they can. */
    public Optional<String> unavailableReason() {
        return Optional.ofNullable(unavailableReason);
    }

    /**
     * Sets the peak back to the current resident set and returns that, in bytes: call before a case.
     *
     * @return the resident set after the reset; empty when {@linkplain #available() unavailable}
     * @throws IllegalStateException if {@code /proc} failed after it worked at first
     */
    public OptionalLong resetPeak() {
        if (!available()) {
            return OptionalLong.empty();
        }
        try {
            Files.writeString(clearRefs, RESET_PEAK);
            return OptionalLong.of(statusBytes(Files.readString(status), "VmRSS"));
        } catch (IOException e) {
            throw new IllegalStateException("reading the peak RSS failed: " + e, e);
        }
    }

    /**
     * The peak resident set since {@link #resetPeak()} minus what it returned, in bytes: call after a case.
     *
     * @param rssAtReset what {@link #resetPeak()} returned
     * @return the growth; empty when {@code rssAtReset} is
     * @throws IllegalStateException if {@code /proc} failed after it worked at first
     */
    public OptionalLong growthSince(OptionalLong rssAtReset) {
        if (rssAtReset.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(statusBytes(Files.readString(status), "VmHWM") - rssAtReset.getAsLong());
        } catch (IOException e) {
            throw new IllegalStateException("reading the peak RSS failed: " + e, e);
        }
    }

    /**
     * A field of {@code /proc/PID/status} given in kB ({@code "VmHWM:\t  123456 kB"}), in bytes.
     *
     * @throws IllegalStateException if the field is missing or not in kB
     */
    static long statusBytes(String statusText, String field) {
        for (String line : statusText.split("\n")) {
            if (line.startsWith(field + ":")) {
                String[] words = line.substring(field.length() + 1).trim().split("\\s+");
                if (words.length == 2 && words[1].equals("kB") && words[0].matches("\\d+")) {
                    return Long.parseLong(words[0]) * 1024;
                }
                throw new IllegalStateException("unexpected " + field + " line '" + line + "'");
            }
        }
        throw new IllegalStateException("no " + field + " line");
    }
}
