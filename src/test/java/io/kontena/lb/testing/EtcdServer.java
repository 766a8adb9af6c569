package io.kontena.lb.testing;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real etcd server for a test: Debian's etcd-server package ({@code /usr/bin/etcd}, or {@code $ETCD_BINARY}), on
 * loopback ports of its own with a data directory the test owns. It can be stopped and started again on the same
 * ports and data, as an etcd that restarts. A client for the test's own writes comes with it.
 */
public final class EtcdServer implements AutoCloseable {
    /**
     * TLS for a server that asks its clients for a certificate ({@code --client-cert-auth}), as PEM files.
     *
     * @param ca         signed the server's certificate and the clients'
     * @param clientCert the client certificate of the test's own client
     */
    public record Tls(Path ca, Path cert, Path key, Path clientCert, Path clientKey) {
    }

    private final Optional<Tls> tls;
    private final Path dataDir;
    private final Path log;
    private final int clientPort;
    private final int peerPort;
    private Process process;
    private Client client;

    private EtcdServer(Path dir, Optional<Tls> tls) throws IOException {
        this.tls = tls;
        this.dataDir = dir.resolve("etcd-data");
        this.log = dir.resolve("etcd.log");
        this.clientPort = LbProcess.freePort();
        this.peerPort = LbProcess.freePort();
    }

    /** Starts a server keeping its data under {@code dir}; it answers when this returns. */
    public static EtcdServer start(Path dir) throws Exception {
        EtcdServer server = new EtcdServer(dir, Optional.empty());
        server.startProcess();
        return server;
    }

    /** {@link #start}, serving its clients over TLS only, and only those with a certificate its CA signed. */
    public static EtcdServer startTls(Path dir, Tls tls) throws Exception {
        EtcdServer server = new EtcdServer(dir, Optional.of(tls));
        server.startProcess();
        return server;
    }

    public static String binary() {
        String given = System.getenv("ETCD_BINARY");
        return given != null ? given : "/usr/bin/etcd";
    }

    /** Whether the etcd binary is installed (`.ci/run` installs it; the tests fail rather than skip without it). */
    public static boolean installed() {
        return Files.isExecutable(Path.of(binary()));
    }

    public String url() {
        return (tls.isPresent() ? "https" : "http") + "://127.0.0.1:" + clientPort;
    }

    public List<String> endpoints() {
        return List.of(url());
    }

    public synchronized void startProcess() throws Exception {
        if (!installed()) {
            throw new IllegalStateException(binary() + " is missing: install Debian's etcd-server package "
                    + "(apt-get install -y etcd-server), as .ci/run does, or point $ETCD_BINARY at an etcd");
        }
        String peer = "http://127.0.0.1:" + peerPort;
        List<String> command = new java.util.ArrayList<>(List.of(binary(), "--name", "test", "--data-dir",
                dataDir.toString(), "--listen-client-urls", url(), "--advertise-client-urls", url(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "test=" + peer, "--log-level", "warn"));
        tls.ifPresent(t -> command.addAll(List.of("--cert-file", t.cert().toString(), "--key-file",
                t.key().toString(), "--trusted-ca-file", t.ca().toString(), "--client-cert-auth")));
        process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!answers()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("etcd did not start on " + url() + ": " + Files.readString(log));
            }
            Thread.sleep(20);
        }
    }

    /** Stops the server (SIGKILL: as a crash); {@link #startProcess} brings it back with the same data. */
    public synchronized void stopProcess() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            process = null;
        }
    }

    private boolean answers() {
        try (Socket s = new Socket("127.0.0.1", clientPort)) {
            return client().getKVClient().get(bytes("/")).get(2, TimeUnit.SECONDS) != null;
        } catch (Exception e) {
            return false;
        }
    }

    private synchronized Client client() {
        if (client == null) {
            var builder = Client.builder().endpoints(url());
            if (tls.isPresent()) {
                try {
                    builder.sslContext(ssl -> ssl.trustManager(tls.get().ca().toFile())
                            .keyManager(tls.get().clientCert().toFile(), tls.get().clientKey().toFile()));
                } catch (javax.net.ssl.SSLException e) {
                    throw new IllegalStateException(e);
                }
            }
            client = builder.build();
        }
        return client;
    }

    public void put(String key, String value) throws Exception {
        client().getKVClient().put(bytes(key), bytes(value)).get(10, TimeUnit.SECONDS);
    }

    /** Puts several keys in one transaction, as a writer of a whole service does. */
    public void putAll(Map<String, String> keys) throws Exception {
        Op[] ops = keys.entrySet().stream().map(e -> Op.put(bytes(e.getKey()), bytes(e.getValue()), PutOption.DEFAULT))
                .toArray(Op[]::new);
        client().getKVClient().txn().Then(ops).commit().get(10, TimeUnit.SECONDS);
    }

    public void delete(String key) throws Exception {
        client().getKVClient().delete(bytes(key)).get(10, TimeUnit.SECONDS);
    }

    public void deletePrefix(String prefix) throws Exception {
        client().getKVClient().delete(bytes(prefix), DeleteOption.builder().isPrefix(true).build())
                .get(10, TimeUnit.SECONDS);
    }

    /** Compacts the history up to now, as etcd's auto-compaction does: a watch from an older revision fails. */
    public void compact() throws Exception {
        long revision = client().getKVClient().get(bytes("/")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
        client().getKVClient().compact(revision).get(10, TimeUnit.SECONDS);
    }

    /**
     * Turns etcd's authentication on with one user, root, that may do anything; this server's own client, which has
     * no user, can then do nothing more.
     */
    public void enableAuthentication(String rootPassword) throws Exception {
        var auth = client().getAuthClient();
        auth.userAdd(bytes("root"), bytes(rootPassword)).get(10, TimeUnit.SECONDS);
        auth.userGrantRole(bytes("root"), bytes("root")).get(10, TimeUnit.SECONDS);
        auth.authEnable().get(10, TimeUnit.SECONDS);
    }

    /** The key's value, or null. */
    public String get(String key) throws Exception {
        var kvs = client().getKVClient().get(bytes(key)).get(10, TimeUnit.SECONDS).getKvs();
        return kvs.isEmpty() ? null : kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception {
        if (client != null) {
            client.close();
        }
        stopProcess();
    }
}
