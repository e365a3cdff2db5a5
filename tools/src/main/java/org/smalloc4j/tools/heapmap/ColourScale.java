package org.smalloc4j.tools.heapmap;

import java.util.List;
import java.util.Locale;

/**
 * The colours of the heap map: a fraction from 0 to 1 on the viridis scale (dark purple through
 * teal to yellow: even steps look even, readable with the common colour-vision deficiencies and in
 * grey), and one light grey for a cell that has no fraction (a slab with no touched slot).
 */
final class ColourScale {

    /** A cell with nothing to measure: its slab never handed out a slot of the class. */
    static final String UNTOUCHED = "#e4e4e4";

    /** Viridis at nine even steps, 0 first (matplotlib's table, rounded to 8 bits). */
    static final List<String> STOPS = List.of(
            "#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725");

    private ColourScale() {
    }

    /**
     * The colour of {@code fraction}, interpolated between the two nearest stops; {@link #UNTOUCHED}
     * for NaN.
     *
     * @throws IllegalArgumentException if {@code fraction} is outside 0..1
     */
    static String colour(double fraction) {
        if (Double.isNaN(fraction)) {
            return UNTOUCHED;
        }
        if (fraction < 0 || fraction > 1) {
            throw new IllegalArgumentException("fraction " + fraction + " is outside 0..1");
        }
        double position = fraction * (STOPS.size() - 1);
        int low = Math.min((int) position, STOPS.size() - 2);
        double weight = position - low;
        int from = rgb(STOPS.get(low));
        int to = rgb(STOPS.get(low + 1));
        int red = mix(from >> 16, to >> 16, weight);
        int green = mix(from >> 8, to >> 8, weight);
        int blue = mix(from, to, weight);
        return String.format(Locale.ROOT, "#%02x%02x%02x", red, green, blue);
    }

    private static int rgb(String hex) {
        return Integer.parseInt(hex, 1, 7, 16);
    }

    private static int mix(int from, int to, double weight) {
        return (int) Math.round((from & 0xff) * (1 - weight) + (to & 0xff) * weight);
    }
}
