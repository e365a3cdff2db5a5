package org.smalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.smalloc4j.internal.BlockTable;

/** The table of a bump arena's large blocks against a HashMap, by seeded random operations. */
class BlockTableTest {

    private record Entry(long byteSize, long byteAlignment) { }

    @Test
    void randomPutsFindsAndRemovesMatchAHashMap() {
        long seed = Long.getLong("smalloc4j.seed", new SplittableRandom().nextLong());
        String context = "seed " + seed + " (rerun with -Dsmalloc4j.seed=" + seed + ")";
        SplittableRandom random = new SplittableRandom(seed);
        BlockTable table = new BlockTable();
        Map<Long, Entry> model = new HashMap<>();
        List<Long> addresses = new ArrayList<>();
        for (int op = 0; op < 200_000; op++) {
            int pick = random.nextInt(100);
            if (pick < 45 || addresses.isEmpty()) {
                // clustered, page-aligned addresses: the worst case for a hash of low bits
                long address = 0x7f00_0000_0000L + (random.nextLong(1 << 16) << 12);
                if (!model.containsKey(address)) {
                    Entry entry = new Entry(random.nextLong(1 << 30), 1L << random.nextInt(20));
                    table.put(address, entry.byteSize(), entry.byteAlignment());
                    model.put(address, entry);
                    addresses.add(address);
                }
            } else if (pick < 80) {
                long address = addresses.remove(random.nextInt(addresses.size()));
                int index = table.find(address);
                assertTrue(index >= 0, context + ": op " + op + " lost " + Long.toHexString(address));
                assertEquals(address, table.address(index));
                assertEquals(model.remove(address), new Entry(table.byteSize(index), table.byteAlignment(index)), context);
                table.removeAt(index);
                assertEquals(-1, table.find(address), context + ": op " + op + " removed entry still found");
            } else if (pick < 99) {
                long address = random.nextBoolean() ? addresses.get(random.nextInt(addresses.size()))
                        : 0x7f00_0000_0000L + (random.nextLong(1 << 16) << 12) + 8;
                int index = table.find(address);
                Entry expected = model.get(address);
                assertEquals(expected == null, index < 0, context + ": op " + op);
                if (expected != null) {
                    assertEquals(expected, new Entry(table.byteSize(index), table.byteAlignment(index)), context);
                }
            } else {
                Map<Long, Entry> seen = new HashMap<>();
                table.forEach((address, byteSize, byteAlignment) -> seen.put(address, new Entry(byteSize, byteAlignment)));
                assertEquals(model, seen, context + ": op " + op + " forEach");
            }
            assertEquals(model.size(), table.size(), context);
        }
        table.clear();
        assertEquals(0, table.size());
        for (long address : addresses) {
            assertEquals(-1, table.find(address));
        }
        assertEquals(-1, table.find(0));
    }
}
