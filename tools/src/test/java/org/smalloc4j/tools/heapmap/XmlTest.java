package org.smalloc4j.tools.heapmap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Escaping: markup characters, characters XML cannot carry, and characters it can. */
class XmlTest {

    @Test
    void markupCharactersBecomeReferences() {
        assertEquals("a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;", Xml.escape("a <b> & \"c\" 'd'"));
        assertEquals("&amp;amp;", Xml.escape("&amp;"), "escaping twice shows the first escape");
    }

    @Test
    void charactersXmlCannotCarryBecomeTheReplacementCharacter() {
        assertEquals("\uFFFD\uFFFD\uFFFD", Xml.escape("\u0000\u0001\u001f"));
        assertEquals("\uFFFD x \uFFFD", Xml.escape("\uD800 x \uDC00"), "lone surrogates");
        assertEquals("\uFFFD\uFFFD", Xml.escape("\uFFFE\uFFFF"));
    }

    @Test
    void everythingElsePassesThrough() {
        String text = "tab\tline\ncr\r ÷ × 😀 \u00e9 heap-1";
        assertEquals(text, Xml.escape(text));
        assertEquals("", Xml.escape(""));
    }
}
