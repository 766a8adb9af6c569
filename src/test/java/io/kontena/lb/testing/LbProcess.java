package io.kontena.lb.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The load balancer as a separate process ({@code kontena-lb run}), for what only a process shows: signals,
 * exit status, a small heap.
 */
public final class LbProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private LbProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code run --stack FILE --bind 127.0.0.1 --access-log=false} plus the given arguments. */
    public static LbProcess run(Path stack, List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String leakDetection = System.getProperty("io.netty.leakDetection.level");
        if (leakDetection != null) {
            command.add("-Dio.netty.leakDetection.level=" + leakDetection); // as strict as the tests themselves
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.kontena.lb.cli.Main");
        command.addAll(List.of("run", "--stack", stack.toString(), "--bind", "127.0.0.1", "--access-log=false"));
        command.addAll(List.of(args));
        Path log = Files.createTempFile("kontena-lb", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new LbProcess(p, log);
    }

    /** A port that was free a moment ago, for a process that must be told its port in advance. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
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

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(log);
    }
}
