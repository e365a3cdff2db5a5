package org.smalloc4j.tools.heapmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.smalloc4j.SmallocStats;
import org.smalloc4j.SmallocStats.SizeClass;
import org.smalloc4j.SmallocStats.Slab;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The renderer on hand-made snapshots: the grid, the colours, the tooltips, escaping, bad input. */
class HeapMapTest {

    private static final long PAGE = 4096;

    /**
     * Three classes (16 B, 4 KiB, 1 MiB slots, 4 MiB slabs) of two slabs: slab 0 of 16 B has 3 of 4
     * touched slots in use; slab 1 of 4 KiB is full and resident; slab 0 of 1 MiB had two slots,
     * both freed, their pages given back; the rest was never touched.
     */
    private static SmallocStats sample(String heapName) {
        long slab = 4L << 20;
        return new SmallocStats(heapName, List.of(
                sizeClass(4, slab, new Slab(0, 3, 4, PAGE), new Slab(1, 0, 0, 0)),
                sizeClass(12, slab, new Slab(0, 0, 0, 0), new Slab(1, 1024, 1024, slab)),
                sizeClass(20, slab, new Slab(0, 0, 2, 0), new Slab(1, 0, 0, 0))), PAGE);
    }

    private static SizeClass sizeClass(int sizeClass, long slabBytes, Slab... slabs) {
        long slotSize = 1L << sizeClass;
        List<Slab> list = List.of(slabs);
        return new SizeClass(sizeClass, slotSize, slabBytes / slotSize,
                list.stream().mapToLong(Slab::slotsInUse).sum(), list.stream().mapToLong(Slab::slotsTouched).sum(),
                list.stream().mapToLong(Slab::bytesResident).sum(), list);
    }

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    /** The cells of an SVG document by "class/slab", the class read from the enclosing row. */
    private static Map<String, Element> cells(Document svg) {
        Map<String, Element> cells = new HashMap<>();
        NodeList rects = svg.getElementsByTagNameNS("http://www.w3.org/2000/svg", "rect");
        for (int i = 0; i < rects.getLength(); i++) {
            Element rect = (Element) rects.item(i);
            if (rect.getAttribute("class").equals("cell")) {
                String sizeClass = ((Element) rect.getParentNode()).getAttribute("data-class");
                cells.put(sizeClass + "/" + rect.getAttribute("data-slab"), rect);
            }
        }
        return cells;
    }

    private static String title(Element cell) {
        return cell.getElementsByTagNameNS("http://www.w3.org/2000/svg", "title").item(0).getTextContent();
    }

    @Test
    void svgHasOneCellPerClassAndSlabColouredByTheChosenMeasure() throws Exception {
        HeapMap map = HeapMap.of(sample("sample"));
        assertEquals(6, map.cellCount());

        Map<String, Element> inUse = cells(parse(map.svg(HeapMap.Measure.IN_USE)));
        assertEquals(6, inUse.size(), inUse.keySet()::toString);
        assertEquals(ColourScale.colour(0.75), inUse.get("4/0").getAttribute("fill"), "3 of 4 touched slots in use");
        assertEquals(ColourScale.STOPS.getLast(), inUse.get("12/1").getAttribute("fill"), "a full slab");
        assertEquals(ColourScale.STOPS.getFirst(), inUse.get("20/0").getAttribute("fill"), "touched, all freed");
        for (String untouched : List.of("4/1", "12/0", "20/1")) {
            assertEquals(ColourScale.UNTOUCHED, inUse.get(untouched).getAttribute("fill"), untouched);
            assertEquals("", inUse.get(untouched).getAttribute("data-use"), untouched);
        }

        Map<String, Element> resident = cells(parse(map.svg(HeapMap.Measure.RESIDENT)));
        // 4 touched 16-byte slots span one page, which is resident
        assertEquals(ColourScale.STOPS.getLast(), resident.get("4/0").getAttribute("fill"));
        assertEquals(ColourScale.STOPS.getLast(), resident.get("12/1").getAttribute("fill"));
        // two freed 1 MiB slots gave their pages back
        assertEquals(ColourScale.STOPS.getFirst(), resident.get("20/0").getAttribute("fill"));
        assertEquals("0.0000", resident.get("20/0").getAttribute("data-res"));
        // both colourings ride on every cell, for the page's buttons
        assertEquals(inUse.get("4/0").getAttribute("fill"), resident.get("4/0").getAttribute("data-fill-use"));
        assertEquals(resident.get("20/0").getAttribute("fill"), inUse.get("20/0").getAttribute("data-fill-res"));
    }

    @Test
    void eachCellsTitleGivesItsCounts() throws Exception {
        Map<String, Element> cells = cells(parse(HeapMap.of(sample("sample")).svg(HeapMap.Measure.IN_USE)));
        assertEquals("""
                class 4 (16 B slots), slab 0
                in use: 3 slots, 48 B
                free: 1 slot (touched, not in use)
                never touched: 262,140 of 262,144 slots
                resident: 4 KiB of the 4 KiB its touched slots span (100%)""", title(cells.get("4/0")));
        assertTrue(title(cells.get("20/0")).contains("resident: 0 B of the 2 MiB its touched slots span (0%)"),
                title(cells.get("20/0")));
        assertEquals("class 12 (4 KiB slots), slab 0\nnever touched: all 1,024 slots", title(cells.get("12/0")));
    }

    @Test
    void rowsAndTheHeadingSummariseTheHeap() throws Exception {
        String svg = HeapMap.of(sample("sample")).caption("after 10 operations").svg(HeapMap.Measure.IN_USE);
        Document document = parse(svg);
        List<String> texts = new ArrayList<>();
        NodeList nodes = document.getElementsByTagNameNS("http://www.w3.org/2000/svg", "text");
        for (int i = 0; i < nodes.getLength(); i++) {
            texts.add(nodes.item(i).getTextContent());
        }
        assertTrue(texts.contains("heap 'sample': 3 size classes × 2 slabs; 4 MiB in use in 1027 slots, 4 MiB resident"),
                texts::toString);
        assertTrue(texts.contains("after 10 operations"), texts::toString);
        assertTrue(texts.containsAll(List.of("16 B", "4 KiB", "1 MiB")), "row labels: " + texts);
        assertTrue(texts.contains("3 in use of 4 · 4 KiB resident"), texts::toString);
        assertTrue(texts.contains("0 in use of 2 · 0 B resident"), texts::toString);
        assertTrue(texts.contains("colour: slots in use ÷ slots ever touched (per slab)"), texts::toString);
        assertTrue(texts.containsAll(List.of("0%", "50%", "100%")), "legend ticks: " + texts);
    }

    @Test
    void namesAndCaptionsAreEscaped() throws Exception {
        String hostile = "<script>alert('x')</script> & \"quotes\" \u0001 \uD83D\uDE00 \uD800";
        HeapMap map = HeapMap.of(sample(hostile)).caption(hostile);
        Document svg = parse(map.svg(HeapMap.Measure.IN_USE)); // well-formed despite the name
        String title = svg.getDocumentElement().getElementsByTagNameNS("http://www.w3.org/2000/svg", "title")
                .item(0).getTextContent();
        assertTrue(title.startsWith("heap '<script>alert('x')</script> & \"quotes\" \uFFFD \uD83D\uDE00 \uFFFD'"), title);
        String page = map.htmlPage();
        assertTrue(!page.contains("<script>alert"), "the name reached the page unescaped");
        assertTrue(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"), "escaped name");
    }

    @Test
    void thePageCarriesTheErrorHookFirstAndTheSection() {
        HeapMap map = HeapMap.of(sample("sample"));
        String page = map.htmlPage();
        assertTrue(page.startsWith("<!DOCTYPE html>"), page.substring(0, 40));
        int hook = page.indexOf(PageErrorHook.SCRIPT);
        assertTrue(hook > 0 && hook < page.indexOf("<script>", hook + 1) && hook == page.indexOf("<script>"),
                "the error hook is the first script");
        assertTrue(page.contains(map.htmlSection()), "the page embeds the section");
        assertTrue(page.indexOf(HeapMap.STYLE) > 0 && page.indexOf(HeapMap.STYLE) < page.indexOf("</head>"), "style in the head");
        assertTrue(!map.htmlSection().contains("<style"), "no style element in the body");
        String section = map.htmlSection();
        assertTrue(section.startsWith("<section class=\"smalloc4j-heapmap\" data-heapmap-ready=\"false\""), section);
        assertTrue(section.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), "inline SVG");
        assertTrue(!section.contains("<?xml"), "no XML declaration inside HTML");
        assertEquals(6, section.split("<rect class=\"cell\"", -1).length - 1);
        assertTrue(section.contains("data-measure=\"use\"") && section.contains("data-measure=\"res\""), "the buttons");
    }

    @Test
    void badSnapshotsAreRejectedSayingWhatIsWrong() {
        long slab = 1 << 16;
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> HeapMap.of(new SmallocStats("empty", List.of(), PAGE)));
        assertTrue(none.getMessage().contains("no size class"), none.getMessage());

        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class, () -> HeapMap.of(new SmallocStats(
                "ragged", List.of(sizeClass(4, slab, new Slab(0, 0, 0, 0), new Slab(1, 0, 0, 0)),
                sizeClass(5, slab, new Slab(0, 0, 0, 0))), PAGE)));
        assertTrue(ragged.getMessage().contains("class 5 has 1 slabs, class 4 has 2"), ragged.getMessage());

        for (Slab bad : List.of(new Slab(0, 5, 4, 0), new Slab(0, 1, 1 << 13, 0), new Slab(0, -1, 0, 0), new Slab(3, 0, 0, 0))) {
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                    () -> HeapMap.of(new SmallocStats("bad", List.of(sizeClass(4, slab, bad)), PAGE)), bad::toString);
            assertTrue(thrown.getMessage().contains("class 4 slab " + bad.slab() + " has "), thrown.getMessage());
        }
        assertThrows(NullPointerException.class, () -> HeapMap.of(null));
        assertThrows(NullPointerException.class, () -> HeapMap.of(sample("x")).caption(null));
        assertThrows(NullPointerException.class, () -> HeapMap.of(sample("x")).svg(null));
    }

    @Test
    void bytesAreShownInBinaryUnits() {
        assertEquals("0 B", HeapMap.bytes(0));
        assertEquals("1023 B", HeapMap.bytes(1023));
        assertEquals("4 KiB", HeapMap.bytes(4096));
        assertEquals("1.5 MiB", HeapMap.bytes(3 << 19));
        assertEquals("2 GiB", HeapMap.bytes(1L << 31));
        assertEquals("8 EiB", HeapMap.bytes(Long.MAX_VALUE));
    }
}
