package org.smalloc4j.bench.report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns JMH's JSON results into a compact Markdown table (rows: benchmark cases, columns: allocators,
 * time per operation with its error and the ratio to a baseline allocator) and a flat CSV file.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar org.smalloc4j.bench.report.JmhReport results.json… \
 *     [--markdown FILE] [--csv FILE] [--column allocator] [--baseline smalloc] [--methods M,…] [--columns C,…]
 * </pre>
 *
 * <p><b>Rows and columns.</b> A result's column is the value of its {@code --column} parameter
 * ({@code allocator}); its row is its method's name and its other parameters, whatever its class, so
 * that benchmarks of several classes whose methods share a name ({@code AllocFreeBenchmark.ffmPair1T}
 * and {@code BaselineBenchmark.ffmPair1T}) meet in the same rows. Rows come in the order their method
 * first appears, then by parameter values (numbers as numbers). Each cell is the time per operation
 * ± the half-width of JMH's 99.9 % confidence interval, with the ratio to the {@code --baseline}
 * column of the same row ({@code 1.6x}: 1.6 times the baseline's time, so the baseline is faster above
 * 1). When the results carry {@code -prof gc}'s bytes per operation, a second table gives them.
 * Results without the column parameter are listed after the tables, one per line. Two results for the
 * same cell are an error, not a silent choice. {@code --methods pair1T,pair2T} keeps only those
 * methods' rows, in that order; {@code --columns smalloc,system} only those columns, in that order
 * (both for the Markdown; the CSV has every result).
 *
 * <p>The CSV has one line per result: benchmark, method, mode, threads, every parameter, ns/op, error,
 * B/op (empty without {@code -prof gc}).
 */
public final class JmhReport {

    private static final String USAGE = """
            usage: JmhReport RESULTS.json... [--markdown FILE] [--csv FILE] [--column PARAM] [--baseline VALUE]
              RESULTS.json  JMH's output of -rf json (several files are merged)
              --markdown    where the Markdown tables go (default: standard output)
              --csv         also write one CSV line per result there
              --column      the parameter whose values are the columns (default: allocator)
              --baseline    the column the ratios are to (default: smalloc)
              --methods     only these methods' rows, in this order (comma-separated; default: all)
              --columns     only these columns, in this order (comma-separated; default: all, baseline first)""";

    private final String column;
    private final String baseline;
    private final List<String> methods; // empty: all, in order of appearance
    private final List<String> columns; // empty: all, the baseline first

    /**
     * @param column the parameter whose values are the columns
     * @param baseline the column the ratios are to
     * @param methods the methods whose rows to show, in order; empty for all
     * @param columns the columns to show, in order; empty for all
     */
    public JmhReport(String column, String baseline, List<String> methods, List<String> columns) {
        this.column = column;
        this.baseline = baseline;
        this.methods = List.copyOf(methods);
        this.columns = List.copyOf(columns);
    }

    /** Every row and column. */
    public JmhReport(String column, String baseline) {
        this(column, baseline, List.of(), List.of());
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; returns the exit status (0, 1 for an unreadable result, 2 for bad usage). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        List<Path> inputs = new ArrayList<>();
        Path markdown = null;
        Path csv = null;
        String column = "allocator";
        String baseline = "smalloc";
        List<String> methods = List.of();
        List<String> columns = List.of();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--markdown" -> markdown = Path.of(value(args, ++i));
                    case "--csv" -> csv = Path.of(value(args, ++i));
                    case "--column" -> column = value(args, ++i);
                    case "--baseline" -> baseline = value(args, ++i);
                    case "--methods" -> methods = List.of(value(args, ++i).split(","));
                    case "--columns" -> columns = List.of(value(args, ++i).split(","));
                    case "-h", "--help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> {
                        if (args[i].startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + args[i]);
                        }
                        inputs.add(Path.of(args[i]));
                    }
                }
            }
            if (inputs.isEmpty()) {
                throw new IllegalArgumentException("no results file given");
            }
        } catch (IllegalArgumentException e) {
            err.println("JmhReport: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try {
            List<JmhResult> results = new ArrayList<>();
            for (Path input : inputs) {
                results.addAll(JmhResult.parse(Files.readString(input), input.toString()));
            }
            JmhReport report = new JmhReport(column, baseline, methods, columns);
            String tables = report.markdown(results);
            if (markdown == null) {
                out.print(tables);
            } else {
                Files.writeString(markdown, tables);
            }
            if (csv != null) {
                Files.writeString(csv, csv(results));
            }
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            err.println("JmhReport: " + e.getMessage());
            return 1;
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    // ---------------------------------------------------------------- Markdown

    /**
     * The Markdown tables of {@code results}: times, then bytes per operation if the results have
     * them, then the results without the column parameter.
     *
     * @throws IllegalArgumentException if two results fall in the same cell
     */
    public String markdown(List<JmhResult> allResults) {
        List<JmhResult> results = allResults.stream().filter(this::shown).toList();
        Map<String, Map<String, JmhResult>> rows = rows(results);
        List<String> columns = columns(results);
        StringBuilder text = new StringBuilder();
        if (!rows.isEmpty()) {
            text.append("ns/op ± 99.9 % confidence half-width (µs or ms where marked); (1.6x): time / ")
                    .append(baseline).append("'s time in the same row, above 1 ").append(baseline)
                    .append(" is faster\n\n");
            table(text, rows, columns, this::timeCell);
            if (results.stream().anyMatch(r -> r.params().containsKey(column) && !Double.isNaN(r.bytesPerOp()))) {
                text.append("\nJava heap allocated per operation, B/op (-prof gc)\n\n");
                table(text, rows, columns, (result, base) -> bytes(result.bytesPerOp()));
            }
        }
        List<JmhResult> others = results.stream().filter(r -> !r.params().containsKey(column)).toList();
        if (!others.isEmpty()) {
            text.append(text.isEmpty() ? "" : "\n").append("| benchmark | ns/op | B/op |\n|---|---:|---:|\n");
            for (JmhResult result : others) {
                String name = result.simpleClassName() + "." + label(result);
                text.append("| ").append(name).append(" | ").append(time(result.nanosPerOp(), result.errorNanos()))
                        .append(" | ").append(bytes(result.bytesPerOp())).append(" |\n");
            }
        }
        return text.toString();
    }

    /** What a cell shows of a result, given the baseline's result in the same row (or null). */
    @FunctionalInterface
    private interface Cell {
        String of(JmhResult result, JmhResult base);
    }

    private void table(StringBuilder text, Map<String, Map<String, JmhResult>> rows, List<String> columns, Cell cell) {
        text.append("| case |");
        columns.forEach(name -> text.append(' ').append(name).append(" |"));
        text.append("\n|---|");
        columns.forEach(name -> text.append("---:|"));
        text.append('\n');
        rows.forEach((label, cells) -> {
            text.append("| ").append(label).append(" |");
            JmhResult base = cells.get(baseline);
            for (String name : columns) {
                JmhResult result = cells.get(name);
                text.append(' ').append(result == null ? "" : cell.of(result, base)).append(" |");
            }
            text.append('\n');
        });
    }

    private String timeCell(JmhResult result, JmhResult base) {
        String time = time(result.nanosPerOp(), result.errorNanos());
        return base == null || base == result ? time : time + " (" + ratio(result.nanosPerOp() / base.nanosPerOp()) + ")";
    }

    /** Is the result's method among {@code --methods}, and its column among {@code --columns}? */
    private boolean shown(JmhResult result) {
        String name = result.params().get(column);
        return (methods.isEmpty() || methods.contains(result.method()))
                && (columns.isEmpty() || name == null || columns.contains(name));
    }

    /** The rows, in order, each a map from column to result. */
    private Map<String, Map<String, JmhResult>> rows(List<JmhResult> results) {
        List<JmhResult> tabled = results.stream().filter(r -> r.params().containsKey(column)).toList();
        List<String> methods = this.methods.isEmpty() ? tabled.stream().map(JmhResult::method).distinct().toList() : this.methods;
        Comparator<JmhResult> order = Comparator.<JmhResult>comparingInt(r -> methods.indexOf(r.method()))
                .thenComparing(this::otherParams, JmhReport::compareValues);
        Map<String, Map<String, JmhResult>> rows = new LinkedHashMap<>();
        for (JmhResult result : tabled.stream().sorted(order).toList()) {
            Map<String, JmhResult> cells = rows.computeIfAbsent(label(result), key -> new LinkedHashMap<>());
            JmhResult earlier = cells.putIfAbsent(result.params().get(column), result);
            if (earlier != null) {
                throw new IllegalArgumentException("two results for " + column + " '" + result.params().get(column)
                        + "' in row '" + label(result) + "': " + earlier.benchmark() + " and " + result.benchmark());
            }
        }
        return rows;
    }

    /** The column names: the baseline first, then in order of first appearance. */
    private List<String> columns(List<JmhResult> results) {
        Set<String> names = new LinkedHashSet<>();
        results.stream().map(r -> r.params().get(column)).filter(name -> name != null).forEach(names::add);
        if (!this.columns.isEmpty()) {
            return this.columns.stream().filter(names::contains).toList();
        }
        List<String> columns = new ArrayList<>(names);
        if (columns.remove(baseline)) {
            columns.addFirst(baseline);
        }
        return columns;
    }

    private List<String> otherParams(JmhResult result) {
        List<String> values = new ArrayList<>();
        result.params().forEach((name, value) -> {
            if (!name.equals(column)) {
                values.add(value);
            }
        });
        return values;
    }

    /** Element by element, numbers as numbers. */
    private static int compareValues(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int order = compareValue(a.get(i), b.get(i));
            if (order != 0) {
                return order;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static int compareValue(String a, String b) {
        try {
            return Double.compare(Double.parseDouble(a), Double.parseDouble(b));
        } catch (NumberFormatException notBothNumbers) {
            return a.compareTo(b);
        }
    }

    /** The method and its parameters but the column: {@code pair1T 16 B}, {@code close 1 MiB blocks=256}. */
    private String label(JmhResult result) {
        StringBuilder label = new StringBuilder(result.method());
        result.params().forEach((name, value) -> {
            if (!name.equals(column)) {
                label.append(' ').append(name.equals("size") ? size(value) : name + "=" + value);
            }
        });
        return label.toString();
    }

    // ---------------------------------------------------------------- numbers

    /** {@code 16 B}, {@code 4 KiB}, {@code 1 MiB}; anything else as it is. */
    static String size(String bytes) {
        try {
            long value = Long.parseLong(bytes);
            if (value >= 1 << 20 && value % (1 << 20) == 0) {
                return value / (1 << 20) + " MiB";
            }
            if (value >= 1 << 10 && value % (1 << 10) == 0) {
                return value / (1 << 10) + " KiB";
            }
            return value + " B";
        } catch (NumberFormatException notANumber) {
            return bytes;
        }
    }

    /** {@code 18.3 ± 1.1}, {@code 52.4 ± 3.1 µs}, {@code 1.61 ms}: three digits or so, the error alike. */
    static String time(double nanos, double errorNanos) {
        double scale = nanos >= 1e6 ? 1e6 : nanos >= 1e4 ? 1e3 : 1;
        String unit = scale == 1e6 ? " ms" : scale == 1e3 ? " µs" : "";
        double value = nanos / scale;
        String pattern = value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : "%.2f";
        String text = String.format(Locale.ROOT, pattern, value);
        if (!Double.isNaN(errorNanos)) {
            text += " ± " + String.format(Locale.ROOT, pattern, errorNanos / scale);
        }
        return text + unit;
    }

    /** {@code 0.65x}, {@code 12.3x}, {@code 140x}. */
    static String ratio(double ratio) {
        String pattern = ratio >= 100 ? "%.0fx" : ratio >= 10 ? "%.1fx" : "%.2fx";
        return String.format(Locale.ROOT, pattern, ratio);
    }

    /** Whole bytes; empty without {@code -prof gc}. */
    static String bytes(double bytesPerOp) {
        return Double.isNaN(bytesPerOp) ? "" : String.format(Locale.ROOT, "%.0f", bytesPerOp);
    }

    // ---------------------------------------------------------------- CSV

    /** One line per result, a header first; every parameter of any result has a column. */
    public static String csv(List<JmhResult> results) {
        Set<String> params = new LinkedHashSet<>();
        results.forEach(r -> params.addAll(r.params().keySet()));
        StringBuilder text = new StringBuilder("benchmark,method,mode,threads");
        params.forEach(name -> text.append(',').append(csvField(name)));
        text.append(",ns_per_op,error_ns,bytes_per_op\n");
        for (JmhResult result : results) {
            text.append(csvField(result.benchmark())).append(',').append(csvField(result.method())).append(',')
                    .append(csvField(result.mode())).append(',').append(result.threads());
            params.forEach(name -> text.append(',').append(csvField(result.params().getOrDefault(name, ""))));
            text.append(',').append(csvNumber(result.nanosPerOp())).append(',').append(csvNumber(result.errorNanos()))
                    .append(',').append(csvNumber(result.bytesPerOp())).append('\n');
        }
        return text.toString();
    }

    private static String csvNumber(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.3f", value);
    }

    /** Quoted when it holds a comma, a quote or a line break (RFC 4180). */
    private static String csvField(String value) {
        if (value.contains(",") || value.contains("\"") || value.contains("\n")) {
            return '"' + value.replace("\"", "\"\"") + '"';
        }
        return value;
    }
}
