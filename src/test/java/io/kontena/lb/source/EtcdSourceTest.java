package io.kontena.lb.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Problem;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.PortMapping;
import io.kontena.lb.testing.EtcdServer;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.vault.EtcdSecretStore;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore;
import java.util.Base64;
import java.util.Optional;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The etcd source against a real etcd server: reads, live changes, bad keys, etcd restarts, lost history. */
class EtcdSourceTest {
    private static final String LB = "/kontena/haproxy/lb/";
    private static final String VAULT_KEY = Base64.getEncoder().encodeToString(new byte[32]);

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @TempDir
    Path dir;

    private EtcdServer etcd;

    @BeforeEach
    void startEtcd() throws Exception {
        etcd = EtcdServer.start(dir);
    }

    @AfterEach
    void stopEtcd() throws Exception {
        etcd.close();
    }

    private EtcdSource source(String lbName, ConfigWatcher watcher) {
        return source(lbName, watcher, EtcdSource.QUIET_MILLIS);
    }

    private EtcdSource source(String lbName, ConfigWatcher watcher, long quietMillis) {
        return lb.closeAfter(new EtcdSource(etcd.endpoints(), lbName, Map.of(), List.of(PortMapping.parse("0:80"),
                PortMapping.parse("0:5000"), PortMapping.parse("0:443")), Optional.of(VAULT_KEY), watcher,
                quietMillis));
    }

    /** A new source's first configuration applied, and the watch started. */
    private ConfigWatcher serve(String lbName) {
        return serve(lbName, EtcdSource.QUIET_MILLIS);
    }

    private ConfigWatcher serve(String lbName, long quietMillis) {
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        EtcdSource source = source(lbName, watcher, quietMillis);
        assertThat(watcher.offer(source.load())).isEmpty();
        source.start();
        return watcher;
    }

    private static Map<String, String> web(String path, WhoAmI... upstreams) {
        Map<String, String> keys = new java.util.HashMap<>(Map.of(LB + "services/web/balance", "roundrobin",
                LB + "services/web/virtual_path", path));
        for (WhoAmI w : upstreams) {
            keys.put(LB + "services/web/upstreams/" + w.name(), "127.0.0.1:" + w.port());
        }
        return keys;
    }

    @Test
    void servicesAndTheirInstancesApplyAsTheyChangeInEtcd() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        etcd.putAll(web("/one", a));
        ConfigWatcher watcher = serve("lb");
        int port = lb.httpPort();
        assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("a");

        etcd.put(LB + "services/web/upstreams/b", "127.0.0.1:" + b.port()); // an instance starts
        await(() -> watcher.applied().http().get(0).upstreams().size() == 2);
        assertThat(instancesAnswering(port, "/one/")).containsExactlyInAnyOrder("a", "b");

        etcd.delete(LB + "services/web/upstreams/a"); // and one stops
        await(() -> watcher.applied().http().get(0).upstreams().size() == 1);
        assertThat(instancesAnswering(port, "/one/")).containsExactly("b");

        etcd.put(LB + "services/web/virtual_path", "/two");
        await(() -> watcher.applied().http().get(0).virtualPaths().equals(List.of("/two")));
        assertThat(RawHttp.get(port, "x", "/two/").instance()).isEqualTo("b");
        assertThat(RawHttp.get(port, "x", "/one/").status()).isEqualTo(503);

        etcd.deletePrefix(LB + "services/web/"); // the service no longer links to the load balancer
        await(() -> watcher.applied().http().isEmpty());
        assertThat(watcher.problems()).isEmpty();
    }

    @Test
    void aServiceWrittenKeyByKeyIsReadOnceWhole() throws Exception {
        WhoAmI a = lb.whoami("a");
        etcd.putAll(web("/one", a));
        // writes pause for 500 ms here rather than 50, so that a slow disk under etcd does not split the five puts
        ConfigWatcher watcher = serve("lb", 500);
        long before = watcher.generation();
        // A writer without transactions (as the original orchestrator was): five keys in a row.
        String api = LB + "services/api/";
        etcd.put(api + "balance", "leastconn");
        etcd.put(api + "virtual_hosts", "api.example.com");
        etcd.put(api + "virtual_path", "/v1");
        etcd.put(api + "keep_virtual_path", "true");
        etcd.put(api + "upstreams/a", "127.0.0.1:" + a.port());
        await(() -> watcher.applied().http().size() == 2);
        Thread.sleep(1000); // as long again: no second configuration follows
        assertThat(watcher.generation()).as("one configuration for the five keys").isEqualTo(before + 1);
        assertThat(RawHttp.get(lb.httpPort(), "api.example.com", "/v1/users").echoed("request"))
                .isEqualTo("GET /v1/users HTTP/1.1");
    }

    @Test
    void aBadKeyRejectsItsServiceByNameWhileTheLastGoodVersionServes() throws Exception {
        WhoAmI a = lb.whoami("a");
        etcd.putAll(web("/one", a));
        ConfigWatcher watcher = serve("lb");
        int port = lb.httpPort();

        etcd.put(LB + "services/web/balance", "fastest");
        await(() -> !watcher.problems().isEmpty());
        Problem p = watcher.problems().get(0);
        assertThat(p.subject()).isEqualTo("web");
        assertThat(p.key()).isEqualTo(LB + "services/web/balance");
        assertThat(p.value()).isEqualTo("fastest");
        assertThat(p.message()).contains("roundrobin", "source", "leastconn");
        assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("a");

        etcd.put(LB + "services/web/balance", "source");
        etcd.put(LB + "services/web/virtual_host", "www.example.com"); // misspelt
        await(() -> watcher.problems().size() == 1 && watcher.problems().get(0).key().endsWith("virtual_host"));
        assertThat(watcher.problems().get(0).message()).contains("unknown key", "did you mean virtual_hosts?");
        assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("a");

        etcd.delete(LB + "services/web/virtual_host");
        etcd.put(LB + "services/web/upstreams/a", "127.0.0.1:not-a-port");
        await(() -> watcher.problems().size() == 1 && watcher.problems().get(0).key().endsWith("upstreams/a"));
        assertThat(watcher.problems().get(0).key()).isEqualTo(LB + "services/web/upstreams/a");
        assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("a");

        etcd.put(LB + "services/web/upstreams/a", "127.0.0.1:" + a.port());
        await(() -> watcher.problems().isEmpty());
        assertThat(watcher.applied().http().get(0).balance().toString()).containsIgnoringCase("source");
    }

    @Test
    void keysOutsideTheLayoutAreReportedAndTheRestServes() throws Exception {
        WhoAmI a = lb.whoami("a");
        etcd.putAll(web("/one", a));
        etcd.put(LB + "stray", "x");
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        var config = source("lb", watcher).load();
        assertThat(config.http()).hasSize(1);
        assertThat(config.problems()).singleElement().satisfies(p -> {
            assertThat(p.key()).isEqualTo(LB + "stray");
            assertThat(p.message()).contains(LB + "services/<service>/<key>");
        });
    }

    @Test
    void instancesAloneMakeNoServiceAndKeysOfAStacksLoadBalancerInsideTheSubtreeAreNotThisOnes() throws Exception {
        WhoAmI a = lb.whoami("a");
        etcd.putAll(web("/one", a));
        etcd.put(LB + "services/gone/upstreams/x", "127.0.0.1:" + a.port()); // registered after its service left
        etcd.put("/kontena/haproxy/lb/shop/services/web/balance", "roundrobin"); // load balancer "lb/shop"'s
        var config = source("lb", new ConfigWatcher(lb.runtime())).load();
        assertThat(config.http()).extracting(s -> s.name()).containsExactly("web");
        assertThat(config.problems()).singleElement().satisfies(p -> {
            assertThat(p.subject()).isEqualTo("gone");
            assertThat(p.key()).isEqualTo(LB + "services/gone/balance");
            assertThat(p.message()).contains("missing", "not served");
        });
    }

    @Test
    void aTcpServiceWaitsForItsFirstInstanceAndRelaysOnceOneRegisters() throws Exception {
        String db = LB + "tcp-services/db/";
        etcd.putAll(Map.of(db + "balance", "roundrobin", db + "external_port", "5000"));
        ConfigWatcher watcher = serve("lb");
        int port = lb.runtime().boundPorts().get("db");
        assertThat(watcher.applied().tcp()).singleElement().satisfies(s -> assertThat(s.upstreams()).isEmpty());
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            assertThat(s.getInputStream().read()).as("closed: no instance yet").isEqualTo(-1);
        }

        WhoAmI a = lb.whoami("a");
        etcd.put(db + "upstreams/a", "127.0.0.1:" + a.port());
        await(() -> watcher.applied().tcp().get(0).upstreams().size() == 1);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).startsWith("HTTP/1.1 200").contains("a");
        }
    }

    @Test
    void aLoadBalancerOfAStackReadsItsOwnSubtree() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI other = lb.whoami("other");
        String own = "/kontena/haproxy/shop/lb/services/shop-web/";
        etcd.putAll(Map.of(own + "balance", "roundrobin", own + "upstreams/1", "127.0.0.1:" + a.port(),
                "/kontena/haproxy/lb/services/web/virtual_path", "/",
                "/kontena/haproxy/lb/services/web/upstreams/1", "127.0.0.1:" + other.port()));
        ConfigWatcher watcher = serve("shop/lb");
        assertThat(watcher.applied().http()).extracting(s -> s.name()).containsExactly("shop-web");
        assertThat(RawHttp.get(lb.httpPort(), "x", "/").instance()).isEqualTo("a");
    }

    @Test
    void whileEtcdIsDownTheLastConfigurationServesAndChangesApplyOnceItIsBack() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        etcd.putAll(web("/one", a));
        ConfigWatcher watcher = serve("lb");
        int port = lb.httpPort();

        etcd.stopProcess();
        Thread.sleep(500);
        assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("a");

        etcd.startProcess(); // same data: the subtree is read again, and watched from there
        etcd.put(LB + "services/web/upstreams/a", "127.0.0.1:" + b.port());
        await(() -> watcher.applied().http().get(0).upstreams().get(0).port() == b.port());
        assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("b");
        long generation = watcher.generation();
        etcd.put(LB + "services/web/virtual_path", "/two"); // seen by the new watch, not by that read
        await(() -> watcher.generation() == generation + 1);
        assertThat(RawHttp.get(port, "x", "/two/").instance()).isEqualTo("b");
    }

    @Test
    void aWatchThatCannotResumeBecauseEtcdCompactedItsHistoryReadsTheSubtreeAgain() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        etcd.putAll(web("/one", a));
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        EtcdSource source = source("lb", watcher);
        assertThat(watcher.offer(source.load())).isEmpty();
        // Changes, then compaction, between the read and the watch: the watch's start revision is gone.
        etcd.put(LB + "services/web/upstreams/a", "127.0.0.1:" + b.port());
        etcd.put(LB + "services/web/virtual_path", "/two");
        etcd.compact();
        source.start();
        await(() -> watcher.applied().http().get(0).virtualPaths().equals(List.of("/two")));
        assertThat(RawHttp.get(lb.httpPort(), "x", "/two/").instance()).isEqualTo("b");

        etcd.put(LB + "services/web/virtual_path", "/three"); // and it watches again from there
        await(() -> watcher.applied().http().get(0).virtualPaths().equals(List.of("/three")));
    }

    @Test
    void anUnreachableEtcdAtStartIsOneClearError() throws Exception {
        int nobody = LbProcess.freePort();
        EtcdSource source = lb.closeAfter(new EtcdSource(List.of("http://127.0.0.1:" + nobody), "lb", Map.of(),
                List.of(), Optional.empty(), null));
        assertThatThrownBy(source::load).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot read /kontena/haproxy/lb/ in etcd at http://127.0.0.1:" + nobody)
                .hasMessageContaining("check that etcd runs there");
    }

    @Test
    void theLoadBalancersCertificatesComeFromTheVaultInEtcdAndChangesThereApplyLive() throws Exception {
        TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();
        try (EtcdSecretStore vault = vault(VAULT_KEY)) {
            ConfigWatcher watcher = serveWithCertificateInVault(vault, www);
            int port = lb.runtime().httpsPort();
            assertThat(TestCertificates.served(port, "www.example.com")).isEqualTo(www.certificate());

            TestCertificates.Issued renewed = TestCertificates.cert("www.example.com").build();
            vault.write("www_cert", renewed.bundle(), SecretStore.WriteMode.REPLACE); // rotated in the vault
            await(() -> renewed.certificate().equals(TestCertificates.served(port, "www.example.com")));

            TestCertificates.Issued api = TestCertificates.cert("api.example.com").build();
            vault.write("api_cert", api.bundle(), SecretStore.WriteMode.CREATE);
            etcd.put(LB + "secrets/SSL_CERTS", "www_cert, api_cert"); // one more mapped
            await(() -> api.certificate().equals(TestCertificates.served(port, "api.example.com")));
            assertThat(TestCertificates.served(port, "www.example.com")).isEqualTo(renewed.certificate());
            assertThat(watcher.problems()).isEmpty();

            etcd.put(LB + "secrets/SSL_CERTS", "www_cert,bad name"); // a bad mapping: rejected, the last good serves
            await(() -> !watcher.problems().isEmpty());
            assertThat(watcher.problems()).singleElement().satisfies(p -> assertThat(p.toString())
                    .contains(LB + "secrets/SSL_CERTS", "'bad name' is not a secret's name"));
            assertThat(TestCertificates.served(port, "api.example.com")).isEqualTo(api.certificate());
        }
    }

    @Test
    void aVaultThatCannotBeReadRejectsTheChangeAndTheLastGoodCertificateKeepsServing() throws Exception {
        TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();
        try (EtcdSecretStore vault = vault(VAULT_KEY)) {
            ConfigWatcher watcher = serveWithCertificateInVault(vault, www);
            int port = lb.runtime().httpsPort();

            // the vault written again under another key: this load balancer's no longer opens it
            etcd.deletePrefix(EtcdSecretStore.ROOT);
            try (EtcdSecretStore other = vault(Base64.getEncoder().encodeToString(new byte[] {
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                    28, 29, 30, 31, 32}))) {
                other.write("www_cert", TestCertificates.cert("www.example.com").build().bundle(),
                        SecretStore.WriteMode.CREATE);
            }
            await(() -> watcher.problems().toString().contains("vault key does not match"));
            assertThat(watcher.problems()).singleElement().satisfies(p -> assertThat(p.toString())
                    .contains("cannot read the secrets of lb from the vault in etcd", "vault key does not match")
                    .doesNotContain("BEGIN"));
            assertThat(TestCertificates.served(port, "www.example.com")).isEqualTo(www.certificate());
            assertThat(RawHttp.get(lb.httpPort(), "x", "/").instance()).isEqualTo("a");
        }
    }

    @Test
    void aSecretRemovedFromTheVaultIsAProblemAndItsCertificateKeepsServing() throws Exception {
        TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();
        try (EtcdSecretStore vault = vault(VAULT_KEY)) {
            ConfigWatcher watcher = serveWithCertificateInVault(vault, www);
            vault.remove("www_cert");
            await(() -> !watcher.problems().isEmpty());
            assertThat(watcher.problems()).map(Problem::toString).anySatisfy(p -> assertThat(p)
                    .contains("lb: SSL_CERTS=(not shown): secret 'www_cert' is not in the vault"));
            assertThat(TestCertificates.served(lb.runtime().httpsPort(), "www.example.com"))
                    .isEqualTo(www.certificate());
        }
    }

    @Test
    void aServicesUsersComeFromTheVaultInEtcdAndAChangeThereAppliesLive() throws Exception {
        WhoAmI a = lb.whoami("a");
        try (EtcdSecretStore vault = vault(VAULT_KEY)) {
            vault.write("web_users", "user alice insecure-password wonderland", SecretStore.WriteMode.CREATE);
            Map<String, String> keys = web("/", a);
            keys.put(LB + "services/web/secrets/KONTENA_LB_BASIC_AUTH_SECRETS", "web_users");
            etcd.putAll(keys);
            ConfigWatcher watcher = serve("lb");
            int port = lb.httpPort();
            assertThat(authorized(port, null)).isEqualTo(401);
            assertThat(authorized(port, "alice:wonderland")).isEqualTo(200);

            vault.write("web_users", "user bob insecure-password builder", SecretStore.WriteMode.REPLACE);
            await(() -> authorized(port, "alice:wonderland") == 401);
            assertThat(authorized(port, "bob:builder")).isEqualTo(200);

            vault.remove("web_users"); // the service is rejected: its last good version, with bob, keeps serving
            await(() -> !watcher.problems().isEmpty());
            assertThat(watcher.problems()).singleElement().asString()
                    .contains("web: " + LB + "services/web/secrets/KONTENA_LB_BASIC_AUTH_SECRETS=(not shown): "
                            + "secret 'web_users' is not in the vault");
            assertThat(authorized(port, null)).isEqualTo(401);
            assertThat(authorized(port, "bob:builder")).isEqualTo(200);
        }
    }

    /** The status of a request with these credentials ("user:password"), or none. */
    private static int authorized(int port, String credentials) {
        String header = credentials == null ? "" : "Authorization: Basic "
                + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)) + "\r\n";
        try (RawHttp c = new RawHttp(port)) {
            return c.send("GET / HTTP/1.1\r\nHost: x\r\n" + header + "\r\n").read().status();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aMappingWithoutAVaultKeyIsOneClearErrorAtStart() throws Exception {
        etcd.put(LB + "secrets/SSL_CERTS", "www_cert");
        EtcdSource source = lb.closeAfter(new EtcdSource(etcd.endpoints(), "lb", Map.of(), List.of(),
                Optional.empty(), null));
        assertThatThrownBy(source::load).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot read the secrets of lb from the vault in etcd")
                .hasMessageContaining("needs its key in KONTENA_LB_VAULT_KEY");
    }

    /** Serves web ("a") and the certificate that the load balancer's secrets/SSL_CERTS maps from www_cert. */
    private ConfigWatcher serveWithCertificateInVault(EtcdSecretStore vault, TestCertificates.Issued www)
            throws Exception {
        vault.write("www_cert", www.bundle(), SecretStore.WriteMode.CREATE);
        etcd.putAll(web("/", lb.whoami("a")));
        etcd.put(LB + "secrets/SSL_CERTS", "www_cert");
        return serve("lb");
    }

    private EtcdSecretStore vault(String base64Key) {
        return EtcdSecretStore.open(etcd.endpoints(), Map.of(FileSecretStore.KEY_VARIABLE, base64Key));
    }

    private static Set<String> instancesAnswering(int port, String path) throws Exception {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            seen.add(RawHttp.get(port, "x", path).instance());
        }
        return seen;
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition met within 15 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
