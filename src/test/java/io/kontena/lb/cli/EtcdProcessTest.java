package io.kontena.lb.cli;

import static io.kontena.lb.cli.CliTest.cli;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.EtcdServer;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TestVaults;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet's way of working, with the commands as a user runs them: {@code publish} writes a stack file's services into
 * a real etcd, and a load balancer process started with {@code run} and Kontena's environment (ETCD_NODE,
 * KONTENA_STACK_NAME, KONTENA_SERVICE_NAME) serves them and follows each publish.
 */
class EtcdProcessTest {
    private static final String SUBTREE = "/kontena/haproxy/shop/internet_lb/";
    /** Classes of what the shipped jar leaves out of the etcd client's dependencies (pom.xml), as -verbose:class says. */
    private static final Pattern PRUNED = Pattern.compile(
            "\\[class,load\\] (org\\.checkerframework|com\\.google\\.(api|apps|cloud|geo|logging|longrunning|shopping|type))\\.\\S+");

    @RegisterExtension
    final ProxyFixture fixture = new ProxyFixture();

    @TempDir
    Path dir;

    private static String stack(String services) {
        return """
                stack: shop
                services:
                  internet_lb:
                    image: kontena/lb:latest
                %s""".formatted(services);
    }

    private static String web(String path, WhoAmI upstream) {
        return """
                  web:
                    image: whoami
                    environment:
                      KONTENA_LB_VIRTUAL_PATH: %s
                    links: [internet_lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(path, upstream.port());
    }

    private static String api(String balance, WhoAmI upstream) {
        return """
                  api:
                    image: whoami
                    environment:
                      KONTENA_LB_VIRTUAL_HOSTS: api.example.com
                      KONTENA_LB_BALANCE: %s
                    links: [internet_lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(balance, upstream.port());
    }

    private CliTest.Result publish(EtcdServer etcd, String stackText) throws IOException {
        Path file = dir.resolve("kontena.yml");
        Files.writeString(file, stackText);
        return cli("publish", "--stack", file.toString(), "--etcd", etcd.url());
    }

    @Test
    void aLoadBalancerStartedWithKontenasEnvironmentServesWhatIsPublishedAndFollowsEachPublish() throws Exception {
        WhoAmI a = fixture.whoami("a");
        WhoAmI b = fixture.whoami("b");
        int port = LbProcess.freePort();
        try (EtcdServer etcd = EtcdServer.start(dir)) {
            CliTest.Result first = publish(etcd, stack(web("/one", a)));
            assertThat(first.exit()).as(first.err()).isZero();
            assertThat(first.out()).contains(SUBTREE + "services/shop-web/: 3 key(s) written or removed");

            String node = etcd.url().substring("http://".length()); // as Kontena gave it: host:port
            try (LbProcess lb = LbProcess.runWithoutStack(Map.of("ETCD_NODE", node, "KONTENA_STACK_NAME", "shop",
                    "KONTENA_SERVICE_NAME", "internet_lb"), List.of("-verbose:class"), "--publish", port + ":80")) {
                lb.awaitListening(port);
                assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("a");

                assertThat(publish(etcd, stack(web("/two", b))).out())
                        .contains(SUBTREE + "services/shop-web/: 2 key(s) written or removed");
                await(() -> "b".equals(RawHttp.get(port, "x", "/two/").instance()));
                assertThat(RawHttp.get(port, "x", "/one/").status()).isEqualTo(503);
                assertThat(publish(etcd, stack(web("/two", b))).out()).contains("services/shop-web/: unchanged");

                // web leaves the load balancer, api joins it
                CliTest.Result swap = publish(etcd, stack(api("source", a)));
                assertThat(swap.out()).contains(SUBTREE + "services/shop-web/: removed");
                await(() -> RawHttp.get(port, "x", "/two/").status() == 503);
                assertThat(RawHttp.get(port, "api.example.com", "/").instance()).isEqualTo("a");

                // a bad service is not published: etcd keeps its last good version, which goes on serving
                CliTest.Result bad = publish(etcd, stack(api("fastest", b)));
                assertThat(bad.exit()).isEqualTo(1);
                assertThat(bad.err()).contains("not published: api: KONTENA_LB_BALANCE=fastest");
                assertThat(bad.out()).doesNotContain("removed");
                assertThat(etcd.get(SUBTREE + "services/shop-api/balance")).isEqualTo("source");
                assertThat(RawHttp.get(port, "api.example.com", "/").instance()).isEqualTo("a");

                Matcher pruned = PRUNED.matcher(lb.stdout());
                assertThat(pruned.find()).as("a class the shipped jar leaves out (pom.xml) was loaded: "
                        + (pruned.find(0) ? pruned.group() : "")).isFalse();

                CliTest.Result validate = cli("validate", "--etcd", etcd.url(), "--lb", "shop/internet_lb");
                assertThat(validate.exit()).as(validate.out() + validate.err()).isZero();
                assertThat(validate.out()).contains("shop-api", "api.example.com", "127.0.0.1:" + a.port());
                CliTest.Result misspelt = cli("validate", "--etcd", etcd.url(), "--lb", "shop/internt_lb");
                assertThat(misspelt.exit()).isEqualTo(1);
                assertThat(misspelt.err()).contains("no keys under /kontena/haproxy/shop/internt_lb/",
                        "load balancers in etcd: shop/internet_lb");
            }
        }
    }

    @Test
    void aRegisteredInstanceIsServedWhileItsCommandRunsAndLeavesWhenItStopsOrDies() throws Exception {
        WhoAmI a = fixture.whoami("a");
        WhoAmI b = fixture.whoami("b");
        int port = LbProcess.freePort();
        try (EtcdServer etcd = EtcdServer.start(dir)) {
            assertThat(publish(etcd, stack(web("/", a))).exit()).isZero();
            CliTest.Result unpublished = cli("register", "--etcd", etcd.url(), "--lb", "shop/internet_lb",
                    "--service", "web", "--instance", "b-1", "--address", "127.0.0.1:" + b.port());
            assertThat(unpublished.exit()).isEqualTo(2);
            assertThat(unpublished.err()).contains("no service is published at " + SUBTREE + "services/web/");

            try (LbProcess lb = LbProcess.runWithoutStack(Map.of(), List.of(), "--etcd", etcd.url(),
                    "--lb", "shop/internet_lb", "--publish", port + ":80")) {
                lb.awaitListening(port);
                Process stopped = register(etcd, "b-1", b);
                await(() -> answering(port).contains("b"));
                // publishing the service again (changed) leaves the registered instance in place
                assertThat(publish(etcd, stack(web("/,/more", a))).out()).contains("services/shop-web/: 1 key(s)");
                await(() -> RawHttp.get(port, "x", "/more/").status() == 200);
                assertThat(answering(port)).containsExactlyInAnyOrder("a", "b");
                stopped.destroy(); // SIGTERM: the key goes at once
                assertThat(stopped.waitFor()).isZero();
                await(() -> !answering(port).contains("b"));

                Process killed = register(etcd, "b-2", b);
                await(() -> answering(port).contains("b"));
                killed.destroyForcibly(); // SIGKILL: the key expires with its lease (2 s)
                killed.waitFor();
                await(() -> !answering(port).contains("b"));
                assertThat(answering(port)).containsExactly("a");
            }
        }
    }

    @Test
    void aCertificateWrittenOnceToTheVaultInEtcdIsServedAndRenewedByEveryLoadBalancerOfTheFleet() throws Exception {
        WhoAmI a = fixture.whoami("a");
        Map<String, String> key = Map.of("KONTENA_LB_VAULT_KEY", TestVaults.newKey());
        TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();
        try (EtcdServer etcd = EtcdServer.start(dir)) {
            command(key, "vault", "--etcd", etcd.url(), "write", "www_cert", www.bundle());
            command(key, "vault", "--etcd", etcd.url(), "write", "web_users", "user alice insecure-password wonderland");
            Path file = dir.resolve("kontena.yml");
            Files.writeString(file, stack("""
                        secrets:
                          - secret: www_cert
                            name: SSL_CERTS
                            type: env
                      web:
                        image: whoami
                        environment:
                          KONTENA_LB_VIRTUAL_HOSTS: www.example.com
                        links: [internet_lb]
                        upstreams: ["127.0.0.1:%d"]
                        secrets:
                          - secret: web_users
                            name: KONTENA_LB_BASIC_AUTH_SECRETS
                            type: env
                    """.formatted(a.port())));
            assertThat(command(key, "publish", "--stack", file.toString(), "--etcd", etcd.url()))
                    .contains(SUBTREE + "secrets/: 1 key(s) written or removed");
            assertThat(etcd.get(SUBTREE + "secrets/SSL_CERTS")).isEqualTo("www_cert");
            // the users stay sealed in the vault: the service's key maps them
            assertThat(etcd.get(SUBTREE + "services/shop-web/secrets/KONTENA_LB_BASIC_AUTH_SECRETS"))
                    .isEqualTo("web_users");
            assertThat(etcd.get(SUBTREE + "services/shop-web/basic_auth_secrets")).isNull();

            List<Integer> ports = List.of(LbProcess.freePort(), LbProcess.freePort());
            int http = LbProcess.freePort();
            List<LbProcess> fleet = new ArrayList<>();
            try {
                for (int port : ports) {
                    Map<String, String> env = new HashMap<>(key);
                    env.putAll(Map.of("ETCD_NODE", etcd.url(), "KONTENA_STACK_NAME", "shop",
                            "KONTENA_SERVICE_NAME", "internet_lb"));
                    fleet.add(LbProcess.runWithoutStack(env, List.of(), "--publish", port + ":443",
                            "--publish", (fleet.isEmpty() ? http : LbProcess.freePort()) + ":80"));
                }
                for (int i = 0; i < fleet.size(); i++) {
                    fleet.get(i).awaitListening(ports.get(i));
                    assertThat(TestCertificates.served(ports.get(i), "www.example.com")).isEqualTo(www.certificate());
                }
                assertThat(RawHttp.get(http, "www.example.com", "/").status()).isEqualTo(401);
                TestCertificates.Issued renewed = TestCertificates.cert("www.example.com").build();
                command(key, "vault", "--etcd", etcd.url(), "update", "www_cert", renewed.bundle());
                for (int port : ports) {
                    await(() -> renewed.certificate().equals(TestCertificates.served(port, "www.example.com")));
                }
            } finally {
                for (LbProcess lb : fleet) {
                    lb.close();
                }
            }
        }
    }

    /** The command in a process of its own with these variables; returns its output once it exited 0. */
    private static String command(Map<String, String> environment, String... args) throws Exception {
        LbProcess.Finished finished = LbProcess.command(environment, args);
        assertThat(finished.exit()).as(finished.output()).isZero();
        return finished.output();
    }

    /** {@code register} in a process of its own, with a lease of 2 s; returns once its key is written. */
    private Process register(EtcdServer etcd, String instance, WhoAmI upstream) throws Exception {
        Path log = dir.resolve(instance + ".log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                LbProcess.shippedClassPath(), "io.kontena.lb.cli.Main", "register", "--etcd", etcd.url(),
                "--lb", "shop/internet_lb", "--service", "shop-web", "--instance", instance,
                "--address", "127.0.0.1:" + upstream.port(), "--ttl", "2")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        fixture.closeAfter(p::destroyForcibly);
        await(() -> Files.readString(log).contains("registered " + SUBTREE + "services/shop-web/upstreams/"
                + instance));
        return p;
    }

    private static Set<String> answering(int port) throws IOException {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            seen.add(RawHttp.get(port, "x", "/").instance());
        }
        return seen;
    }

    @Test
    void runWithoutAnySourceSaysHowToGiveOne() {
        CliTest.Result r = cli("run");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--stack FILE", "--etcd URL", "$ETCD_NODE");
        CliTest.Result both = cli("validate", "--stack", "x.yml", "--etcd", "http://127.0.0.1:1");
        assertThat(both.err()).contains("--stack and --etcd are two sources; give one of them");
        CliTest.Result noName = cli("validate", "--etcd", "http://127.0.0.1:1");
        assertThat(noName.exit()).isEqualTo(2);
        assertThat(noName.err()).contains("name the load balancer with --lb NAME", "/kontena/haproxy/NAME/");
        assertThat(cli("validate", "--etcd", "ftp://127.0.0.1:1", "--lb", "lb").err())
                .contains("ftp://127.0.0.1:1: etcd's client URL is http://HOST:PORT, or https://HOST:PORT for TLS");
        assertThat(cli("validate", "--etcd", "http://127.0.0.1:1", "--lb", "lb", "--vault", "v.json").err())
                .contains("--vault names a vault file, for --stack; with --etcd, secrets come from the vault in etcd");
        assertThat(cli("validate", "--etcd", "http://127.0.0.1:1", "--lb", "lb", "-p", "80:eighty").err())
                .contains("--publish 80:eighty:");
    }

    @Test
    void theLoadBalancersOwnSettingsComeFromItsEnvironmentButNotThisProcesssOwnVariables() {
        Map<String, String> lb = SourceOptions.lbEnvironment(Map.of("SSL_CERTS", "pem", "SSL_CERT_shop", "pem2",
                "KONTENA_LB_HTTP2", "false", "KONTENA_LB_TRANSPORT", "epoll", "KONTENA_LB_VAULT_KEY", "k",
                "PATH", "/usr/bin", "ETCD_NODE", "x", "SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt",
                "SSL_CERT_DIR", "/etc/ssl/certs", "ACME_CHALLENGE_tok", "tok.thumb"));
        assertThat(lb).containsOnlyKeys("SSL_CERTS", "SSL_CERT_shop", "KONTENA_LB_HTTP2", "ACME_CHALLENGE_tok");
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void await(Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!check.holds()) {
            assertThat(System.nanoTime()).as("met within 15 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
