package io.kontena.lb.cli;

import io.netty.util.ResourceLeakDetector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The command line: one subcommand per task an operator has. */
@Command(name = "kontena-lb",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Load balancer for multi-service applications, configured by the services it balances.")
public final class Main implements Runnable {

    /** Netty's leak detection samples buffers and records stack traces; off unless asked for, as in tests. */
    static final String LEAK_DETECTION = "io.netty.leakDetection.level";
    /** Netty's Flight Recorder events for its buffer allocator; off unless asked for. */
    static final String NETTY_JFR = "io.netty.jfr.enabled";

    /** The subcommands, in the order the help lists them. */
    private static final String[] SUBCOMMANDS = {"run", "validate", "publish", "register", "demo", "vault", "help"};

    /** SLF4J's logging backend; see {@link LogbackProvider}. */
    private static final String SLF4J_PROVIDER = "slf4j.provider";
    /** How much SLF4J says about itself on stderr. */
    private static final String SLF4J_VERBOSITY = "slf4j.internal.verbosity";

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        ClassArchive.untilServing();
        if (System.getProperty(SLF4J_PROVIDER) == null) {
            // Set before anything logs; -Dslf4j.provider=ch.qos.logback.classic.spi.LogbackServiceProvider still
            // chooses Logback's own. A provider named so is announced at SLF4J's INFO level on every start, hence
            // only its warnings and errors.
            System.setProperty(SLF4J_PROVIDER, LogbackProvider.class.getName());
            if (System.getProperty(SLF4J_VERBOSITY) == null) {
                System.setProperty(SLF4J_VERBOSITY, "WARN");
            }
        }
        if (System.getProperty(NETTY_JFR) == null) {
            // Set before any Netty class reads it. On, the first buffer allocated registers the events with the
            // Flight Recorder, which holds the first request up by about 0.1 s, and every allocation checks them.
            // -Dio.netty.jfr.enabled=true turns them back on.
            System.setProperty(NETTY_JFR, "false");
        }
        if (System.getProperty(LEAK_DETECTION) == null) {
            // The sampling costs about 2% of the CPU per proxied request; -Dio.netty.leakDetection.level=simple
            // (or paranoid) turns it back on.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        System.exit(commandLineFor(args).execute(args));
    }

    /** The configured command line with every subcommand. */
    public static CommandLine commandLine() {
        return withSubcommands(SUBCOMMANDS);
    }

    /**
     * The command line for these arguments: when the first one names a subcommand other than help, that
     * subcommand alone. picocli reads the annotations of every registered command (and of their options' types)
     * before it parses anything, which for all of them took about 90 ms of a 1 s start on one core; a subcommand
     * that is not run has nothing to contribute but a line in the top-level help, which then is not asked for.
     */
    static CommandLine commandLineFor(String[] args) {
        String first = args.length == 0 ? "" : args[0];
        for (String name : SUBCOMMANDS) {
            if (name.equals(first) && !name.equals("help")) {
                return withSubcommands(first);
            }
        }
        return commandLine();
    }

    private static CommandLine withSubcommands(String... names) {
        CommandLine cli = new CommandLine(new Main());
        for (String name : names) {
            cli.addSubcommand(subcommand(name));
        }
        CommandLine vault = cli.getSubcommands().get("vault");
        if (vault != null) {
            VaultCommand.takeValuesThatLookLikeOptions(vault);
        }
        cli.setExecutionExceptionHandler(new OneLineErrors());
        cli.setParameterExceptionHandler(Main::usageMistake);
        return cli;
    }

    private static Object subcommand(String name) {
        switch (name) {
            case "run": return new RunCommand();
            case "validate": return new ValidateCommand();
            case "publish": return new PublishCommand();
            case "register": return new RegisterCommand();
            case "demo": return new DemoCommand();
            case "vault": return new VaultCommand();
            case "help": return new CommandLine.HelpCommand();
            default: throw new IllegalArgumentException("no subcommand " + name);
        }
    }

    @Override
    public void run() {
        // The command line this was parsed by, which knows the subcommands (a new one made from the
        // annotations would not).
        CommandLine cli = spec.commandLine();
        cli.usage(cli.getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"kontena-lb " + (v == null ? "development build" : v)};
        }
    }

    /** A mistake on the command line is one line on stderr, pointing at the help, and exit status 2. */
    private static int usageMistake(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        cli.getErr().println("error: " + e.getMessage() + " (see '" + cli.getCommandSpec().qualifiedName()
                + " --help')");
        return 2;
    }

    /** A user's mistake is one line on stderr and exit status 2, not a stack trace. */
    static final class OneLineErrors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            cli.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 2;
        }
    }
}
