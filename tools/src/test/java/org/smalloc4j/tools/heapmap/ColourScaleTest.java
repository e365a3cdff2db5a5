package org.smalloc4j.tools.heapmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The viridis scale: its ends, its stops, between them, and what it refuses. */
class ColourScaleTest {

    @Test
    void endsAndStopsAreTheTablesColours() {
        assertEquals("#440154", ColourScale.colour(0));
        assertEquals("#fde725", ColourScale.colour(1));
        assertEquals("#21918c", ColourScale.colour(0.5), "the middle stop");
        assertEquals("#3b528b", ColourScale.colour(0.25));
        assertEquals(ColourScale.UNTOUCHED, ColourScale.colour(Double.NaN));
    }

    @Test
    void betweenTwoStopsEachChannelIsMixed() {
        // halfway between #21918c (0.5) and #28ae80 (0.625)
        assertEquals("#25a086", ColourScale.colour(0.5625));
        String previous = ColourScale.colour(0);
        for (int step = 1; step <= 100; step++) {
            String colour = ColourScale.colour(step / 100.0);
            assertTrue(colour.matches("#[0-9a-f]{6}"), colour);
            // viridis gets lighter all the way: the green channel never falls
            assertTrue(Integer.parseInt(colour.substring(3, 5), 16) >= Integer.parseInt(previous.substring(3, 5), 16),
                    previous + " then " + colour);
            previous = colour;
        }
    }

    @Test
    void fractionsOutsideZeroToOneAreRejected() {
        for (double bad : new double[] {-0.01, 1.01, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> ColourScale.colour(bad));
            assertTrue(thrown.getMessage().contains("outside 0..1"), thrown.getMessage());
        }
    }
}
