package io.kontena.lb.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What the watcher keeps when a snapshot rejects something: services, HTTPS, certificates, ports. */
class ConfigWatcherTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private final TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();
    private final TestCertificates.Issued api = TestCertificates.cert("api.example.com").build();

    private static LbConfig translate(String www, String api, String webVariables) {
        return Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:80", "0:443"]
                    environment:
                %s%s
                  web:
                    image: web
                    environment: {%s}
                    links: [lb]
                    upstreams: ["127.0.0.1:1"]
                """.formatted(www == null ? "" : "      SSL_CERT_www: |\n" + www.indent(8),
                api == null ? "" : "      SSL_CERT_api: |\n" + api.indent(8), webVariables), "kontena.yml"),
                Optional.empty());
    }

    @Test
    void aStatsPasswordThatCannotBeHadKeepsTheLastOneOrLetsNobodyIn() {
        LbConfig none = Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:80"]
                    environment:
                      STATS_PASSWORD: ""
                """, "kontena.yml"), Optional.empty());
        assertThat(none.frontend().statsPassword()).isEmpty();
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        watcher.offer(none);
        String locked = watcher.applied().frontend().statsPassword().orElseThrow(); // nobody knows it
        assertThat(locked).isNotEmpty();
        watcher.offer(none);
        assertThat(watcher.applied().frontend().statsPassword()).contains(locked); // and it stays the same

        ConfigWatcher other = new ConfigWatcher(lb.runtime());
        other.offer(Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:80"]
                    environment:
                      STATS_PASSWORD: s3cret
                """, "kontena.yml"), Optional.empty()));
        other.offer(none);
        assertThat(other.applied().frontend().statsPassword()).contains("s3cret");
    }

    @Test
    void aServiceRejectedLaterKeepsHttpsAsItWas() {
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        watcher.offer(translate(www.bundle(), api.bundle(), ""));
        int port = lb.runtime().httpsPort();

        watcher.offer(translate(www.bundle(), api.bundle(), "KONTENA_LB_BALANCE: nonsense"));

        assertThat(watcher.problems()).extracting(Problem::subject).containsExactly("web");
        assertThat(watcher.applied().http()).extracting(s -> s.name()).containsExactly("web");
        assertThat(watcher.applied().https()).map(Https::certificates).get().asList().hasSize(2);
        assertThat(lb.runtime().httpsPort()).isEqualTo(port);
    }

    @Test
    void aBrokenBundleKeepsServingItsLastGoodCertificateInItsPlace() throws Exception {
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        watcher.offer(translate(www.bundle(), api.bundle(), ""));

        String broken = api.bundle().replaceFirst("(?m)^(MII.{10})", "$1!!!!");
        watcher.offer(translate(www.bundle(), broken, ""));

        assertThat(watcher.problems()).extracting(Problem::key).containsExactly("SSL_CERT_api");
        Https https = watcher.applied().https().orElseThrow();
        assertThat(https.certificates()).extracting(Certificate::origin).containsExactly("SSL_CERT_api", "SSL_CERT_www");
        assertThat(https.certificates().get(0).leaf()).isEqualTo(api.certificate());
        assertThat(https.warnings()).extracting(Problem::message).anySatisfy(m ->
                assertThat(m).contains("last good certificate (api.example.com) keeps serving"));

        // and when every bundle breaks, HTTPS still serves all of them
        watcher.offer(translate("no PEM here", broken, ""));
        assertThat(watcher.applied().https().orElseThrow().certificates()).extracting(Certificate::leaf)
                .containsExactly(api.certificate(), www.certificate());
        assertThat(lb.runtime().httpsPort()).isPositive();

        // removing a variable is no mistake: its certificate goes
        watcher.offer(translate(www.bundle(), null, ""));
        assertThat(watcher.applied().https().orElseThrow().certificates()).extracting(Certificate::origin)
                .containsExactly("SSL_CERT_www");
    }

    @Test
    void aPortInUseKeepsTheLastGoodPortServingUntilItIsFree() throws Exception {
        int http = LbProcess.freePort();
        int db = LbProcess.freePort();
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        assertThat(watcher.offer(ports(http, db))).isEmpty();
        long generation = watcher.generation();

        try (ServerSocket busyHttp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocket busyDb = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            LbConfig moved = ports(busyHttp.getLocalPort(), busyDb.getLocalPort());
            assertThat(watcher.offer(moved)).extracting(Problem::subject).containsExactlyInAnyOrder("http", "db");

            assertThat(watcher.problems()).extracting(Problem::subject, Problem::key, Problem::value)
                    .containsExactlyInAnyOrder(tuple("http", "port", Integer.toString(busyHttp.getLocalPort())),
                            tuple("db", "port", Integer.toString(busyDb.getLocalPort())));
            assertThat(watcher.problems()).allSatisfy(p -> assertThat(p.message()).contains("cannot listen on"));
            assertThat(lb.runtime().httpPort()).isEqualTo(http);
            assertThat(lb.runtime().tcpPort("db")).isEqualTo(db);
            assertThat(accepts(http)).isTrue();
            assertThat(accepts(db)).isTrue();
            assertThat(watcher.generation()).isEqualTo(generation + 1); // the problems are news

            // unchanged and still in use: nothing to do
            watcher.offer(moved);
            assertThat(watcher.generation()).isEqualTo(generation + 1);
        }

        // once the ports are free, the same snapshot (a SIGHUP, any save) moves both
        int freedHttp = LbProcess.freePort();
        int freedDb = LbProcess.freePort();
        assertThat(watcher.offer(ports(freedHttp, freedDb))).isEmpty();
        assertThat(watcher.problems()).isEmpty();
        assertThat(lb.runtime().httpPort()).isEqualTo(freedHttp);
        assertThat(lb.runtime().tcpPort("db")).isEqualTo(freedDb);
        assertThat(accepts(http)).isFalse();
        assertThat(accepts(db)).isFalse();
    }

    @Test
    void aFirstConfigurationWithAPortInUseAppliesNothing() throws Exception {
        int db = LbProcess.freePort();
        try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
            assertThat(watcher.offer(ports(busy.getLocalPort(), db))).extracting(Problem::subject)
                    .containsExactly("http");
            assertThat(watcher.generation()).isZero();
            assertThat(lb.runtime().tcpPort("db")).isEqualTo(-1);
            assertThat(accepts(db)).isFalse();
        }
    }

    /** HTTP on {@code http}, and the TCP service db on {@code db}. */
    private static LbConfig ports(int http, int db) {
        return Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                    ports: ["%d:80"]
                  web:
                    image: web
                    links: [lb]
                    upstreams: ["127.0.0.1:1"]
                  db:
                    image: db
                    environment: {KONTENA_LB_MODE: tcp, KONTENA_LB_EXTERNAL_PORT: "%d"}
                    links: [lb]
                    upstreams: ["127.0.0.1:1"]
                """.formatted(http, db), "kontena.yml"), Optional.empty());
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
