package io.kontena.lb.testing;

import java.io.File;
import java.io.IOException;
import java.net.BindException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The load balancer as a separate process ({@code kontena-lb run}), for what only a process shows: signals,
 * exit status, a small heap, what goes to stdout and stderr. It logs as the shipped jar does.
 */
public final class LbProcess implements AutoCloseable {
    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private LbProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * Starts {@code run --stack FILE --bind 127.0.0.1} plus the given arguments; the access log is off unless
     * they set {@code --access-log}.
     */
    public static LbProcess run(Path stack, List<String> jvmOptions, String... args) throws IOException {
        return start(Map.of(), "run", List.of("--stack", stack.toString()), jvmOptions, args);
    }

    /** {@link #run} with these variables added to the process's environment. */
    public static LbProcess run(Map<String, String> environment, Path stack, List<String> jvmOptions,
                                String... args) throws IOException {
        return start(environment, "run", List.of("--stack", stack.toString()), jvmOptions, args);
    }

    /** {@code run} without a stack file, as {@link #run} does otherwise: the arguments name etcd (or the environment). */
    public static LbProcess runWithoutStack(Map<String, String> environment, List<String> jvmOptions, String... args)
            throws IOException {
        return start(environment, "run", List.of(), jvmOptions, args);
    }

    /** Starts {@code demo --stack FILE --bind 127.0.0.1} plus the given arguments, as {@link #run} does. */
    public static LbProcess demo(Path stack, List<String> jvmOptions, String... args) throws IOException {
        return start(Map.of(), "demo", List.of("--stack", stack.toString()), jvmOptions, args);
    }

    /**
     * Starts {@code bin/kontena-lb} (the launcher, which runs the jar that {@code mvn package} built) with these
     * arguments and these variables added to the process's environment.
     */
    public static LbProcess launcher(Map<String, String> environment, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of("bin", "kontena-lb").toAbsolutePath().toString()));
        command.addAll(List.of(args));
        return started(command, environment);
    }

    private static LbProcess start(Map<String, String> environment, String subcommand, List<String> source,
                                   List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String leakDetection = System.getProperty("io.netty.leakDetection.level");
        if (leakDetection != null) {
            command.add("-Dio.netty.leakDetection.level=" + leakDetection); // as strict as the tests themselves
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(shippedClassPath());
        command.add("io.kontena.lb.cli.Main");
        command.add(subcommand);
        command.addAll(source);
        command.addAll(List.of("--bind", "127.0.0.1"));
        if (Arrays.stream(args).noneMatch(a -> a.startsWith("--access-log"))) {
            command.add("--access-log=false");
        }
        command.addAll(List.of(args));
        return started(command, environment);
    }

    private static LbProcess started(List<String> command, Map<String, String> environment) throws IOException {
        Path out = Files.createTempFile("kontena-lb", ".out");
        Path err = Files.createTempFile("kontena-lb", ".err");
        ProcessBuilder b = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        withEnvironment(b, environment);
        return new LbProcess(b.start(), out, err);
    }

    /**
     * The test's own variables on top of this process's, less those that would tell the process where etcd is, how
     * to reach it or which vault key to use: a developer's shell must not change what a test sees.
     */
    private static void withEnvironment(ProcessBuilder builder, Map<String, String> environment) {
        builder.environment().keySet().removeIf(name -> name.startsWith("ETCDCTL_") || name.equals("ETCD_NODE")
                || name.startsWith("KONTENA_LB_VAULT") || name.equals("KONTENA_STACK_NAME")
                || name.equals("KONTENA_SERVICE_NAME") || name.equals("STATS_PASSWORD"));
        builder.environment().putAll(environment);
    }

    /** What a command that ran to its end gave: its exit status and its output, stdout and stderr in one. */
    public record Finished(int exit, String output) {
    }

    /**
     * A command ({@code vault ...}, {@code publish ...}) in a process of its own with these variables added, as an
     * operator runs it, to its end (on a newer JDK, the output starts with its warnings about the class path's native
     * and Unsafe access).
     */
    public static Finished command(Map<String, String> environment, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", shippedClassPath(), "io.kontena.lb.cli.Main"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        withEnvironment(builder, environment);
        Process p = builder.start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        return new Finished(p.waitFor(), output);
    }

    /**
     * The tests' class path without the tests' own classes, so the process logs as the shipped jar does (the
     * tests' logging configuration turns the access log off).
     */
    public static String shippedClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !Files.exists(Path.of(entry, "logback-test.xml")))
                .collect(Collectors.joining(File.pathSeparator));
    }

    /**
     * A port that was free a moment ago, for a process that must be told its port in advance. It is taken below the
     * kernel's ephemeral range: a port that {@code bind(0)} handed out and that was closed again can be handed out to
     * the next {@code bind(0)} (an upstream a test starts after this) or become an outgoing connection's source port
     * before the process binds it, and the test would then talk to that socket instead.
     */
    public static int freePort() throws IOException {
        int below = ephemeralRangeStart();
        if (below < 4096) { // no room below it for unprivileged ports: the kernel's pick after all
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            }
        }
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = below / 2 + ThreadLocalRandom.current().nextInt(below / 2);
            try (ServerSocket s = new ServerSocket(port)) {
                return s.getLocalPort();
            } catch (BindException taken) {
                // another process holds it; draw again
            }
        }
        throw new IOException("no free port found between " + below / 2 + " and " + below);
    }

    private static int ephemeralRangeStart() throws IOException {
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        return Files.exists(range) ? Integer.parseInt(Files.readString(range).trim().split("\\s+")[0]) : 32768;
    }

    /** Waits until the process accepts connections on the port. */
    public LbProcess awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("the load balancer exited with " + process.exitValue() + ":\n" + log());
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return this;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("not listening on " + port + " after 20 s:\n" + log());
                }
                Thread.sleep(20);
            }
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Sends SIGHUP: the process reads its stack file again. */
    public void hangUp() throws Exception {
        int exit = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start().waitFor();
        if (exit != 0) {
            throw new AssertionError("kill -HUP " + process.pid() + " exited with " + exit);
        }
    }

    /** Sends SIGTERM. */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the process to end and returns its exit status. */
    public int awaitExit(Duration limit) throws Exception {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + limit + ":\n" + log());
        }
        return process.exitValue();
    }

    /**
     * Waits for a process that {@code replacement} takes over from to end, and checks that it ended cleanly; a
     * failure shows both logs, as either may be the one that went wrong.
     */
    public static void awaitCleanExitOfReplaced(LbProcess replaced, LbProcess replacement, Duration limit)
            throws Exception {
        String problem;
        try {
            int exit = replaced.awaitExit(limit);
            if (exit == 0) {
                return;
            }
            problem = "exited with " + exit + ":\n" + replaced.log();
        } catch (AssertionError e) {
            problem = e.getMessage();
        }
        throw new AssertionError(problem + "\nits replacement, pid " + replacement.pid() + ":\n" + replacement.log());
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** What the process wrote to stderr (its operator messages), then to stdout (its access log). */
    public String log() throws IOException {
        return Files.readString(stderr) + Files.readString(stdout);
    }

    /** What the process wrote to stdout so far. */
    public String stdout() throws IOException {
        return Files.readString(stdout);
    }

    /** What the process wrote to stderr so far. */
    public String stderr() throws IOException {
        return Files.readString(stderr);
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
    }
}
