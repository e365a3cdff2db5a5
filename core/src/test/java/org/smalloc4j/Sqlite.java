package org.smalloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The part of SQLite's C API the tests use, bound through FFM to Debian's {@code libsqlite3.so.0}.
 * Every call that returns a result code checks it ({@link IllegalStateException} with SQLite's
 * message). SQLite's configuration is process-wide, as is this class.
 */
final class Sqlite {

    static final int SQLITE_OK = 0;
    static final int SQLITE_ROW = 100;
    static final int SQLITE_DONE = 101;
    static final int SQLITE_CONFIG_MALLOC = 4;
    static final int SQLITE_CONFIG_GETMALLOC = 5;
    static final int SQLITE_NULL = 5;
    /** Tells SQLite to copy bound text at once. */
    static final MemorySegment SQLITE_TRANSIENT = MemorySegment.ofAddress(-1);

    private static final Linker LINKER = Linker.nativeLinker();
    // the global arena: the library stays loaded, so the configuration set here stays valid
    private static final SymbolLookup LIBRARY = SymbolLookup.libraryLookup("libsqlite3.so.0", Arena.global());

    private static final MethodHandle CONFIG_POINTER = LINKER.downcallHandle(symbol("sqlite3_config"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle INITIALIZE = handle("sqlite3_initialize", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SHUTDOWN = handle("sqlite3_shutdown", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LIBVERSION = handle("sqlite3_libversion", FunctionDescriptor.of(ADDRESS));
    private static final MethodHandle MEMORY_USED = handle("sqlite3_memory_used", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle OPEN = handle("sqlite3_open", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle CLOSE = handle("sqlite3_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ERRMSG = handle("sqlite3_errmsg", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle EXEC = handle("sqlite3_exec",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle FREE = handle("sqlite3_free", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle PREPARE = handle("sqlite3_prepare_v2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BIND_INT64 = handle("sqlite3_bind_int64",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle BIND_TEXT = handle("sqlite3_bind_text",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle STEP = handle("sqlite3_step", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle RESET = handle("sqlite3_reset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FINALIZE = handle("sqlite3_finalize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle COLUMN_COUNT = handle("sqlite3_column_count", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle COLUMN_TYPE = handle("sqlite3_column_type",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle COLUMN_TEXT = handle("sqlite3_column_text",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));

    /** {@code int callback(void*, int columns, char** values, char** names)} of sqlite3_exec. */
    private static final FunctionDescriptor EXEC_CALLBACK = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);

    private Sqlite() {
    }

    private static MemorySegment symbol(String name) {
        return LIBRARY.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libsqlite3.so.0 has no " + name));
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor);
    }

    // ---------------------------------------------------------------- library-wide

    static String libversion() throws Throwable {
        return ((MemorySegment) LIBVERSION.invokeExact()).reinterpret(Long.MAX_VALUE).getString(0);
    }

    static void initialize() throws Throwable {
        check((int) INITIALIZE.invokeExact(), "sqlite3_initialize");
    }

    static void shutdown() throws Throwable {
        check((int) SHUTDOWN.invokeExact(), "sqlite3_shutdown");
    }

    /** sqlite3_config with one pointer argument (variadic). Only while SQLite is shut down. */
    static void config(int option, MemorySegment pointer) throws Throwable {
        check((int) CONFIG_POINTER.invokeExact(option, pointer), "sqlite3_config(" + option + ")");
    }

    /** Bytes SQLite has allocated and not freed, by its own count. */
    static long memoryUsed() throws Throwable {
        return (long) MEMORY_USED.invokeExact();
    }

    private static void check(int resultCode, String call) {
        if (resultCode != SQLITE_OK) {
            throw new IllegalStateException(call + " returned " + resultCode);
        }
    }

    // ---------------------------------------------------------------- a connection

    /** One connection, opened on a confined arena for its C strings. */
    static final class Connection implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment db;

        Connection(String filename) throws Throwable {
            MemorySegment holder = arena.allocate(ADDRESS);
            int rc = (int) OPEN.invokeExact(arena.allocateFrom(filename), holder);
            db = holder.get(ADDRESS, 0);
            if (rc != SQLITE_OK) {
                int ignored = (int) CLOSE.invokeExact(db);
                arena.close();
                throw new IllegalStateException("sqlite3_open returned " + rc + " (" + ignored + ")");
            }
        }

        private void check(int resultCode, String what) throws Throwable {
            if (resultCode != SQLITE_OK) {
                String message = ((MemorySegment) ERRMSG.invokeExact(db)).reinterpret(Long.MAX_VALUE).getString(0);
                throw new IllegalStateException(what + ": SQLite result " + resultCode + ": " + message);
            }
        }

        /** sqlite3_exec without a callback. */
        void exec(String sql) throws Throwable {
            MemorySegment errmsg = arena.allocate(ADDRESS);
            int rc = (int) EXEC.invokeExact(db, arena.allocateFrom(sql), MemorySegment.NULL, MemorySegment.NULL, errmsg);
            MemorySegment message = errmsg.get(ADDRESS, 0);
            if (rc != SQLITE_OK) {
                String text = message.address() == 0 ? "" : message.reinterpret(Long.MAX_VALUE).getString(0);
                FREE.invokeExact(message);
                throw new IllegalStateException(sql + ": SQLite result " + rc + ": " + text);
            }
        }

        /** sqlite3_exec with a callback upcall collecting the rows as "a|b|c" (NULL as "NULL"). */
        List<String> execRows(String sql) throws Throwable {
            List<String> rows = new ArrayList<>();
            try (Arena callbackArena = Arena.ofConfined()) {
                MethodHandle collect = MethodHandles.lookup()
                        .findStatic(Sqlite.class, "collectRow",
                                MethodType.methodType(int.class, List.class, MemorySegment.class, int.class,
                                        MemorySegment.class, MemorySegment.class))
                        .bindTo(rows);
                MemorySegment callback = LINKER.upcallStub(collect, EXEC_CALLBACK, callbackArena);
                int rc = (int) EXEC.invokeExact(db, arena.allocateFrom(sql), callback, MemorySegment.NULL,
                        MemorySegment.NULL);
                check(rc, sql);
            }
            return rows;
        }

        /** Runs a query through prepare/step/column_text: rows as "a|b|c" (NULL as "NULL"). */
        List<String> query(String sql) throws Throwable {
            try (Statement statement = prepare(sql)) {
                List<String> rows = new ArrayList<>();
                while (statement.step()) {
                    rows.add(statement.row());
                }
                return rows;
            }
        }

        Statement prepare(String sql) throws Throwable {
            MemorySegment holder = arena.allocate(ADDRESS);
            check((int) PREPARE.invokeExact(db, arena.allocateFrom(sql), -1, holder, MemorySegment.NULL), sql);
            return new Statement(this, holder.get(ADDRESS, 0));
        }

        @Override
        public void close() throws Exception {
            try {
                check((int) CLOSE.invokeExact(db), "sqlite3_close");
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError(t);
            } finally {
                arena.close();
            }
        }
    }

    /** The exec callback's target, bound to the list it fills. */
    private static int collectRow(List<String> rows, MemorySegment unused, int columns, MemorySegment values,
            MemorySegment names) {
        MemorySegment array = values.reinterpret(columns * ADDRESS.byteSize());
        StringBuilder row = new StringBuilder();
        for (int i = 0; i < columns; i++) {
            MemorySegment value = array.getAtIndex(ADDRESS, i);
            row.append(i == 0 ? "" : "|").append(value.address() == 0 ? "NULL" : value.reinterpret(Long.MAX_VALUE).getString(0));
        }
        rows.add(row.toString());
        return 0;
    }

    /** A prepared statement. */
    static final class Statement implements AutoCloseable {
        private final Connection connection;
        private final MemorySegment stmt;

        Statement(Connection connection, MemorySegment stmt) {
            this.connection = connection;
            this.stmt = stmt;
        }

        Statement bind(int index, long value) throws Throwable {
            connection.check((int) BIND_INT64.invokeExact(stmt, index, value), "bind " + index);
            return this;
        }

        Statement bind(int index, String text) throws Throwable {
            try (Arena arena = Arena.ofConfined()) {
                connection.check((int) BIND_TEXT.invokeExact(stmt, index, arena.allocateFrom(text), -1, SQLITE_TRANSIENT),
                        "bind " + index);
            }
            return this;
        }

        /** True at a row, false when done. */
        boolean step() throws Throwable {
            int rc = (int) STEP.invokeExact(stmt);
            if (rc == SQLITE_ROW) {
                return true;
            }
            if (rc != SQLITE_DONE) {
                connection.check(rc, "sqlite3_step");
            }
            return false;
        }

        /** Runs an insert or update to its end and makes the statement ready again. */
        void execute() throws Throwable {
            while (step()) {
                // rows of a statement run for its effect are ignored
            }
            connection.check((int) RESET.invokeExact(stmt), "sqlite3_reset");
        }

        String row() throws Throwable {
            int columns = (int) COLUMN_COUNT.invokeExact(stmt);
            StringBuilder row = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                row.append(i == 0 ? "" : "|");
                if ((int) COLUMN_TYPE.invokeExact(stmt, i) == SQLITE_NULL) {
                    row.append("NULL");
                } else {
                    row.append(((MemorySegment) COLUMN_TEXT.invokeExact(stmt, i)).reinterpret(Long.MAX_VALUE).getString(0));
                }
            }
            return row.toString();
        }

        @Override
        public void close() throws Exception {
            try {
                connection.check((int) FINALIZE.invokeExact(stmt), "sqlite3_finalize");
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }
}
