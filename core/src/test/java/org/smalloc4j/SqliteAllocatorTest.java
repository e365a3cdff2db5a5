package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's SQLite allocating from our allocators through {@code sqlite3_config(SQLITE_CONFIG_MALLOC)}:
 * a real SQL workload gives the same results as on SQLite's own allocator, and every byte comes back
 * by {@code sqlite3_close} + {@code sqlite3_shutdown}. Each test restores SQLite's own allocator, so
 * the tests are independent of each other and of their order.
 */
class SqliteAllocatorTest {

    /** SQLite's own allocator, saved before any test changes it. */
    private static MemorySegment defaultMethods;
    /** The workload's results on SQLite's own allocator. */
    private static List<String> defaultResults;

    @BeforeAll
    static void saveTheDefaultAllocatorAndItsResults() throws Throwable {
        Sqlite.shutdown();
        defaultMethods = Arena.global().allocate(CAllocatorFunctions.SQLITE3_MEM_METHODS);
        Sqlite.config(Sqlite.SQLITE_CONFIG_GETMALLOC, defaultMethods);
        Sqlite.initialize();
        defaultResults = workload();
        Sqlite.shutdown();
        assertTrue(defaultResults.size() > 30, () -> "the workload's results: " + defaultResults);
    }

    @AfterAll
    static void defaultAllocatorIsBack() throws Throwable {
        assertEquals(defaultResults, workload(), "SQLite runs on its own allocator again");
        Sqlite.shutdown();
    }

    /**
     * Runs the workload with SQLite allocating from {@code functions}, then gives SQLite its own
     * allocator back (also when the workload fails: the stubs die with their arena).
     */
    private static List<String> workloadOn(CAllocatorFunctions functions) throws Throwable {
        Sqlite.shutdown();
        Sqlite.config(Sqlite.SQLITE_CONFIG_MALLOC, functions.sqliteMemMethods());
        try {
            Sqlite.initialize();
            List<String> results = workload();
            Sqlite.shutdown();
            assertEquals(0, Sqlite.memoryUsed(), "SQLite's own count after shutdown");
            return results;
        } finally {
            Sqlite.shutdown();
            Sqlite.config(Sqlite.SQLITE_CONFIG_MALLOC, defaultMethods);
        }
    }

    @Test
    void onSmallocGlobalTheResultsAreThoseOfTheDefaultAllocator() throws Throwable {
        try (Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(Smalloc.global(), arena);
            assertEquals(0, functions.sizing().headerBytes(), "Smalloc needs no header");
            assertEquals(defaultResults, workloadOn(functions));
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
    }

    @Test
    void onACountedSmallocEveryAllocationIsCountedAndFreed() throws Throwable {
        TrackingAllocator counting = TrackingAllocator.of(Smalloc.global());
        try (Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(counting,
                    BlockSizing.usableSize(Smalloc.global()), arena);
            assertEquals(defaultResults, workloadOn(functions));
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
        assertTrue(counting.allocationCount() > 10_000, counting::toString);
        assertEquals(0, counting.liveBytes(), counting::toString);
        assertEquals(counting.allocationCount(), counting.freeCount(), counting::toString);
    }

    @Test
    void onACheckedHeapNoSlotIsLeftInUseAndNoFreeIsRefused() throws Throwable {
        try (Smalloc heap = CAllocatorFunctionsTest.smallHeap(true); Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(heap, arena);
            assertEquals(defaultResults, workloadOn(functions));
            // a checked heap refuses double and invalid frees: none was recorded
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
            long slotsInUse = heap.stats().slotsInUse();
            assertEquals(0, slotsInUse, "slots in use after sqlite3_shutdown");
        }
    }

    @Test
    void withAHeaderOverLibcEveryAllocationIsCountedAndFreed() throws Throwable {
        TrackingAllocator counting = TrackingAllocator.of(new SystemAllocator());
        try (Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(counting, arena);
            assertEquals(BlockSizing.HEADER_BYTES, functions.sizing().headerBytes());
            assertEquals(defaultResults, workloadOn(functions));
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
        assertTrue(counting.allocationCount() > 10_000, counting::toString);
        assertEquals(0, counting.liveBytes(), counting::toString);
        assertEquals(counting.allocationCount(), counting.freeCount(), counting::toString);
    }

    @Test
    void aTraceOfTheWorkloadReadsBackCompleteAndBalanced() throws Throwable {
        java.nio.file.Path file = RecordedTrace.file("sqlite");
        TrackingAllocator tracing = TrackingAllocator.builder(Smalloc.global()).traceTo(file).build();
        try (Arena arena = Arena.ofShared()) {
            CAllocatorFunctions functions = CAllocatorFunctions.of(tracing, BlockSizing.usableSize(Smalloc.global()), arena);
            assertEquals(defaultResults, workloadOn(functions));
            assertEquals(0, functions.failureCount(), () -> functions.lastFailure().toString());
        }
        tracing.close();
        RecordedTrace.Summary summary = RecordedTrace.assertCompleteAndBalanced(file, tracing);
        assertTrue(summary.allocations() > 10_000, summary::toString);
    }

    // ---------------------------------------------------------------- the workload

    private static final int REGIONS = 7;
    private static final int CUSTOMERS = 1_000;
    private static final int ORDERS = 20_000;

    /**
     * Tables, an index, 21,000 rows inserted through prepared statements (notes of 0 to 400 bytes, so
     * allocations of many sizes), an update, a delete, then joins, group-bys, a sort over all notes,
     * a recursive CTE and a callback query. The seed is fixed: every run gives the same rows.
     */
    private static List<String> workload() throws Throwable {
        List<String> results = new ArrayList<>();
        Random random = new Random(20_260_401);
        try (Sqlite.Connection db = new Sqlite.Connection(":memory:")) {
            db.exec("""
                    CREATE TABLE region(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                    CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                          region_id INTEGER NOT NULL REFERENCES region(id));
                    CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
                                        amount INTEGER NOT NULL, note TEXT);
                    CREATE INDEX orders_by_customer ON orders(customer_id);
                    BEGIN;
                    """);
            try (Sqlite.Statement insert = db.prepare("INSERT INTO region(id, name) VALUES (?, ?)")) {
                for (int id = 1; id <= REGIONS; id++) {
                    insert.bind(1, id).bind(2, "region-" + (char) ('A' + id - 1)).execute();
                }
            }
            try (Sqlite.Statement insert = db.prepare("INSERT INTO customer(id, name, region_id) VALUES (?, ?, ?)")) {
                for (int id = 1; id <= CUSTOMERS; id++) {
                    insert.bind(1, id).bind(2, "customer-" + Integer.toString(id * 7919, 36))
                            .bind(3, 1 + random.nextInt(REGIONS)).execute();
                }
            }
            try (Sqlite.Statement insert = db.prepare(
                    "INSERT INTO orders(id, customer_id, amount, note) VALUES (?, ?, ?, ?)")) {
                for (int id = 1; id <= ORDERS; id++) {
                    insert.bind(1, id).bind(2, 1 + random.nextInt(CUSTOMERS)).bind(3, random.nextInt(10_000))
                            .bind(4, note(random)).execute();
                }
            }
            db.exec("""
                    COMMIT;
                    UPDATE orders SET amount = amount * 2 WHERE id % 7 = 0;
                    DELETE FROM orders WHERE amount < 100;
                    """);
            results.addAll(db.query("SELECT count(*), sum(amount), sum(length(note)) FROM orders"));
            results.addAll(db.query("""
                    SELECT r.name, count(*), sum(o.amount), min(o.amount), max(length(o.note))
                    FROM orders o JOIN customer c ON c.id = o.customer_id JOIN region r ON r.id = c.region_id
                    GROUP BY r.name ORDER BY r.name
                    """));
            results.addAll(db.query("""
                    SELECT c.name, count(o.id), sum(o.amount) AS total
                    FROM customer c JOIN orders o ON o.customer_id = c.id
                    GROUP BY c.id ORDER BY total DESC, c.name LIMIT 20
                    """));
            results.addAll(db.query("SELECT substr(note, 1, 24) FROM orders ORDER BY note DESC, id LIMIT 5"));
            results.addAll(db.query("SELECT count(DISTINCT substr(note, 1, 2)), group_concat(DISTINCT r.name) "
                    + "FROM orders o JOIN customer c ON c.id = o.customer_id JOIN region r ON r.id = c.region_id"));
            results.addAll(db.query("""
                    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000)
                    SELECT sum(x * x), count(*) FROM n
                    """));
            results.addAll(db.execRows("""
                    SELECT customer_id, count(*) AS orders_count FROM orders
                    GROUP BY customer_id HAVING orders_count >= 33 ORDER BY customer_id
                    """));
        }
        return results;
    }

    /** A note of 0 to 400 letters from a 20-letter alphabet. */
    private static String note(Random random) {
        int length = random.nextInt(401);
        StringBuilder note = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            note.append((char) ('a' + random.nextInt(20)));
        }
        return note.toString();
    }
}
