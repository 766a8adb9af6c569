package io.kontena.lb.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.source.ConfigWatcher;
import io.kontena.lb.source.StackFileSource;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TestVaults;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A stack file maps a vault secret to SSL_CERTS; writing the secret again rotates the certificate live. */
class VaultCertificateRotationTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @TempDir
    Path dir;

    @Test
    void aSecretWrittenAgainRotatesTheCertificateWhileOpenConnectionsGoOn() throws Exception {
        FileSecretStore store = vault();
        store.write("www_cert", TestCertificates.cert("www.example.com").build().bundle(), SecretStore.WriteMode.CREATE);
        Path file = stackWithSecret(lb.whoami("web-1"));
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        try (StackFileSource source = new StackFileSource(file, Optional.empty(), watcher, () -> store)) {
            assertThat(watcher.offer(source.load())).isEmpty();
            source.start();
            int port = lb.runtime().httpsPort();
            TlsTestClient tls = new TlsTestClient();
            TlsTestClient.Connection open = tls.connect(port, "www.example.com");
            String first = open.peer().getSerialNumber().toString();
            RawHttp keptAlive = new RawHttp(open.socket);
            assertThat(keptAlive.send("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n").read().instance())
                    .isEqualTo("web-1");

            store.write("www_cert", TestCertificates.cert("www.example.com").build().bundle(),
                    SecretStore.WriteMode.REPLACE);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (tls.certificateFor(port, "www.example.com").getSerialNumber().toString().equals(first)) {
                assertThat(System.nanoTime()).as("new certificate served within 10 s").isLessThan(deadline);
                Thread.sleep(50);
            }
            // The connection opened before the rotation still works.
            RawHttp.Response r = keptAlive
                    .send("GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("web-1");
            open.close();
        } finally {
            store.close();
        }
    }

    @Test
    void aSecretThatNoLongerDecryptsIsReportedAndTheLastGoodCertificateKeepsServing() throws Exception {
        FileSecretStore store = vault();
        Path vault = dir.resolve("vault.json");
        TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();
        store.write("www_cert", www.bundle(), SecretStore.WriteMode.CREATE);
        store.write("other", "x", SecretStore.WriteMode.CREATE);
        Path file = stackWithSecret(lb.whoami("web-1"));
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        try (StackFileSource source = new StackFileSource(file, Optional.empty(), watcher, () -> store)) {
            assertThat(watcher.offer(source.load())).isEmpty();
            source.start();
            int port = lb.runtime().httpsPort();
            TlsTestClient tls = new TlsTestClient();

            // another secret's sealed value under this name: it does not decrypt (the name is bound into it)
            String json = Files.readString(vault);
            java.util.regex.Matcher other = java.util.regex.Pattern.compile("\"other\"\\s*:\\s*\"([^\"]+)\"")
                    .matcher(json);
            assertThat(other.find()).isTrue();
            Path damaged = dir.resolve("vault.json.new");
            Files.writeString(damaged, json.replaceFirst("(\"www_cert\"\\s*:\\s*\")[^\"]+\"",
                    "$1" + java.util.regex.Matcher.quoteReplacement(other.group(1)) + "\""));
            Files.move(damaged, vault, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);

            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (watcher.problems().isEmpty()) {
                assertThat(System.nanoTime()).as("the damage reported within 10 s").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(watcher.problems()).singleElement().satisfies(p -> assertThat(p.toString())
                    .contains("cannot read the secrets of " + file, "secret 'www_cert'", "is damaged")
                    .doesNotContain("BEGIN"));
            assertThat(tls.certificateFor(port, "www.example.com")).isEqualTo(www.certificate());

            TestCertificates.Issued renewed = TestCertificates.cert("www.example.com").build();
            store.write("www_cert", renewed.bundle(), SecretStore.WriteMode.REPLACE);
            while (!tls.certificateFor(port, "www.example.com").equals(renewed.certificate())) {
                assertThat(System.nanoTime()).as("the renewed certificate served").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(watcher.problems()).isEmpty();
        } finally {
            store.close();
        }
    }

    private FileSecretStore vault() {
        return TestVaults.inDirectory(dir);
    }

    /** A stack file whose load balancer takes SSL_CERTS from the secret www_cert and balances to {@code web}. */
    private Path stackWithSecret(WhoAmI web) throws java.io.IOException {
        Path file = dir.resolve("kontena.yml");
        Files.writeString(file, """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:443"]
                    secrets:
                      - secret: www_cert
                        name: SSL_CERTS
                        type: env
                  web:
                    image: web
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(web.port()));
        return file;
    }
}
