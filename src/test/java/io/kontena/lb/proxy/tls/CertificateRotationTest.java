package io.kontena.lb.proxy.tls;

import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TestCertificates.Issued;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretMapping;
import io.kontena.lb.vault.SecretStore;
import io.kontena.lb.vault.SecretStore.WriteMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole certificate path: vault secrets mapped to {@code SSL_CERTS}, bundles, the TLS store, a listener; an
 * operator's {@code vault update} in another process rotates the certificate while a connection stays open.
 */
class CertificateRotationTest {
    @TempDir
    Path dir;

    @Test
    void aVaultUpdateRotatesTheCertificateLive() throws Exception {
        Path vaultFile = dir.resolve("vault.json");
        Issued www = TestCertificates.cert("www.example.test").build();
        Issued api = TestCertificates.cert("api.example.test").build();
        List<SecretMapping> mappings = List.of(new SecretMapping("www_cert", "SSL_CERTS"),
                new SecretMapping("api_cert", "SSL_CERTS"));
        try (SecretStore operator = new FileSecretStore(vaultFile, Optional.empty(), Duration.ofMillis(20))) {
            operator.write("www_cert", www.bundle(), WriteMode.CREATE);
            operator.write("api_cert", api.bundle(), WriteMode.CREATE);
        }

        TlsStore tls = new TlsStore();
        try (SecretStore lbVault = new FileSecretStore(vaultFile, Optional.empty(), Duration.ofMillis(20));
             TlsTestServer server = new TlsTestServer(tls)) {
            Runnable apply = () -> {
                SecretMapping.Resolved env = SecretMapping.resolve(mappings, lbVault.readAll());
                CertificateBundles.Result certs = CertificateBundles.read("lb", env.environment(), Instant.now());
                assertThat(certs.problems()).isEmpty();
                tls.update(certs.certificates(), certs.settings());
            };
            apply.run();
            lbVault.watch(names -> apply.run());
            TlsTestClient client = new TlsTestClient();

            try (TlsTestClient.Connection open = client.connect(server.port(), "www.example.test")) {
                assertThat(open.peer()).isEqualTo(www.certificate());
                assertThat(client.certificateFor(server.port(), "api.example.test")).isEqualTo(api.certificate());

                Issued renewed = TestCertificates.cert("www.example.test").build();
                try (SecretStore operator = new FileSecretStore(vaultFile, Optional.empty(), Duration.ofSeconds(1))) {
                    operator.write("www_cert", renewed.bundle(), WriteMode.REPLACE);
                }

                Instant deadline = Instant.now().plusSeconds(10);
                X509Certificate served = client.certificateFor(server.port(), "www.example.test");
                while (!served.equals(renewed.certificate()) && Instant.now().isBefore(deadline)) {
                    Thread.sleep(20);
                    served = client.certificateFor(server.port(), "www.example.test");
                }
                assertThat(served).isEqualTo(renewed.certificate());
                assertThat(open.ask()).isEqualTo("http/1.1 www.example.test");
                assertThat(open.peer()).isEqualTo(www.certificate());
            }
        }
    }
}
