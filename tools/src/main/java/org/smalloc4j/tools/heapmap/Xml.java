package org.smalloc4j.tools.heapmap;

/**
 * Escaping for text written into SVG and HTML by hand. One method serves element content and
 * attribute values (quoted with {@code "}) in both: it escapes the five markup characters and
 * replaces what XML 1.0 cannot carry at all (control characters other than tab, line feed and
 * carriage return, lone surrogates, U+FFFE and U+FFFF) with U+FFFD, so that any string, a heap's
 * name included, gives a well-formed document.
 */
public final class Xml {

    private static final char REPLACEMENT = '\uFFFD';

    private Xml() {
    }

    /** {@code text} ready to stand between tags or inside a double- or single-quoted attribute. */
    public static String escape(String text) {
        StringBuilder escaped = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> escaped.append("&amp;");
                case '<' -> escaped.append("&lt;");
                case '>' -> escaped.append("&gt;");
                case '"' -> escaped.append("&quot;");
                case '\'' -> escaped.append("&#39;");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                        escaped.append(c).append(text.charAt(++i)); // a whole pair: a character beyond U+FFFF
                    } else {
                        escaped.append(allowed(c) ? c : REPLACEMENT);
                    }
                }
            }
        }
        return escaped.toString();
    }

    /** May {@code c}, standing alone (not as half of a surrogate pair), appear in an XML 1.0 document? */
    private static boolean allowed(char c) {
        if (c < 0x20) {
            return c == '\t' || c == '\n' || c == '\r';
        }
        return !Character.isSurrogate(c) && c != '\uFFFE' && c != '\uFFFF';
    }
}
