package io.kontena.lb.proxy.tls;

import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TestCertificates.KeyType;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslPrivateKeyMethod;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.net.ssl.SSLEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Handshakes whose RSA signature (or TLS 1.2 RSA key exchange) AWS-LC makes for BoringSSL: each scheme of TLS 1.2
 * and 1.3 asked for by OpenSSL's own client, which checks the signature, over real sockets.
 */
class RsaKeyMethodTest {
    private static final String NAME = "rsa.example.test";
    /** ECDHE with an RSA signature, and the RSA key exchange: both TLS 1.2; TLS 1.3 keeps its own suites. */
    private static final String CIPHERS = "ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256";

    /** What the server asked of the key method: "sign 0x0804", "decrypt". */
    private final List<String> asked = new CopyOnWriteArrayList<>();
    private TlsTestServer server;

    @BeforeEach
    void serve() throws Exception {
        assumeThat(OpenSsl.isAvailable()).as("BoringSSL").isTrue();
        TlsStore store = new TlsStore(new ServerSslContexts(SslProvider.OPENSSL, this::recorded), Clock.systemUTC());
        TlsSettings settings = new TlsSettings(CipherList.parse(CIPHERS, SslProvider.OPENSSL).suites(),
                Optional.empty(), false);
        assertThat(store.update(certificate(KeyType.RSA), settings)).isEmpty();
        server = new TlsTestServer(store);
    }

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private OpenSslPrivateKeyMethod recorded(PrivateKey key) {
        OpenSslPrivateKeyMethod method = RsaKeyMethod.withAwsLc(key);
        assertThat(method).as("AWS-LC loads on Linux x86-64").isNotNull();
        return new OpenSslPrivateKeyMethod() {
            @Override
            public byte[] sign(SSLEngine engine, int algorithm, byte[] input) throws Exception {
                asked.add(String.format("sign 0x%04x", algorithm));
                return method.sign(engine, algorithm, input);
            }

            @Override
            public byte[] decrypt(SSLEngine engine, byte[] input) throws Exception {
                asked.add("decrypt");
                return method.decrypt(engine, input);
            }
        };
    }

    private static List<Certificate> certificate(KeyType type) {
        CertificateBundles.Result result = CertificateBundles.read("lb",
                Map.of("SSL_CERTS", TestCertificates.cert(NAME).key(type).build().bundle()), Instant.now());
        assertThat(result.problems()).isEmpty();
        return result.certificates();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "-tls1_3, rsa_pss_rsae_sha256, RSA-PSS, SHA256, sign 0x0804",
            "-tls1_3, rsa_pss_rsae_sha384, RSA-PSS, SHA384, sign 0x0805",
            "-tls1_3, rsa_pss_rsae_sha512, RSA-PSS, SHA512, sign 0x0806",
            "-tls1_2, rsa_pss_rsae_sha256, RSA-PSS, SHA256, sign 0x0804",
            "-tls1_2, rsa_pkcs1_sha256, RSA, SHA256, sign 0x0401",
            "-tls1_2, rsa_pkcs1_sha384, RSA, SHA384, sign 0x0501",
            "-tls1_2, rsa_pkcs1_sha512, RSA, SHA512, sign 0x0601",
            "-tls1_2, RSA+SHA1, RSA, SHA1, sign 0x0201"})
    void signsEachSchemeTheClientAsksFor(String version, String scheme, String type, String digest, String asks)
            throws Exception {
        // SECLEVEL=0: OpenSSL 3 refuses SHA-1 signatures otherwise
        String out = sClient(version, "-sigalgs", scheme, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256@SECLEVEL=0");
        assertThat(out).contains("Peer signature type: " + type + "\n", "Peer signing digest: " + digest + "\n");
        assertThat(asked).containsExactly(asks);
    }

    @Test
    void decryptsTls12RsaKeyExchange() throws Exception {
        String out = sClient("-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(out).contains("Cipher is AES128-GCM-SHA256");
        assertThat(asked).containsExactly("decrypt");
    }

    @Test
    void resumedSessionsSignNothing() throws Exception {
        TlsTestClient client = new TlsTestClient(true);
        for (int i = 0; i < 3; i++) {
            try (TlsTestClient.Connection c = client.connect(server.port(), NAME, List.of(), List.of("TLSv1.2"),
                    List.of())) {
                assertThat(c.ask()).isEqualTo("http/1.1 " + NAME);
            }
        }
        assertThat(asked).containsExactly("sign 0x0804");
    }

    @Test
    void otherKeysAreLeftToBoringSsl() {
        assertThat(RsaKeyMethod.forKey(TestCertificates.sharedKey(KeyType.EC).getPrivate())).isNull();
    }

    /** AWS-LC signs RSA only where it is faster than BoringSSL: on CPUs with AVX-512 IFMA. */
    @Test
    void rsaKeysGoToAwsLcOnlyOnCpusWithIfma() throws Exception {
        boolean ifma = Files.readString(Path.of("/proc/cpuinfo")).contains(" avx512ifma");
        assertThat(RsaKeyMethod.forKey(TestCertificates.sharedKey(KeyType.RSA).getPrivate()) != null)
                .as("AWS-LC for an RSA key; this CPU has IFMA: %s", ifma).isEqualTo(ifma);
        assertThat(RsaKeyMethod.cpuHas(List.of("processor\t: 0", "flags\t\t: fpu avx2 avx512f avx512ifma sha_ni",
                "processor\t: 1"), "avx512ifma")).isTrue();
        assertThat(RsaKeyMethod.cpuHas(List.of("flags\t\t: fpu avx2 avx512f avx512ifmax"), "avx512ifma")).isFalse();
        assertThat(RsaKeyMethod.cpuHas(List.of("model name\t: avx512ifma"), "avx512ifma")).isFalse();
    }

    /** OpenSSL's client ends the handshake when the signature does not verify. */
    private String sClient(String... options) throws Exception {
        return OpensslClient.exchange(server.port(), NAME, options);
    }
}
