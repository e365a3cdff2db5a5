package org.smalloc4j.tools;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code smalloc4j} command. Alone it prints its usage; the work is in its subcommands:
 * {@code bench}, {@code soak}, {@code heapmap}, {@code record}, {@code replay} and {@code report}.
 *
 * <p>Run it with the launcher at the repository root ({@code ./smalloc4j bench}), or
 * {@code java -jar tools/target/smalloc4j-tools.jar bench} on JDK 25 (the jar's manifest grants
 * native access).
 */
@Command(name = "smalloc4j",
        mixinStandardHelpOptions = true,
        versionProvider = Smalloc4j.Version.class,
        description = "The smalloc4j toolkit: compare and inspect off-heap allocators.",
        subcommands = {BenchCommand.class, SoakCommand.class, HeapMapCommand.class, RecordCommand.class, ReplayCommand.class,
                ReportCommand.class,
                CommandLine.HelpCommand.class})
public final class Smalloc4j implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    /** Runs the command with {@code args} and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line, ready to execute: for {@link #main} and tests. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Smalloc4j());
        BenchCommand.listWorkloadsInHelp(commandLine.getSubcommands().get("bench"));
        return commandLine;
    }

    /** No subcommand: print the usage and fail, as for any other missing argument. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
    }

    /** The version from the jar's manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Smalloc4j.class.getPackage().getImplementationVersion();
            return new String[] {"smalloc4j " + (version != null ? version : "(development build)"),
                    "JVM: " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
