package io.kontena.lb.kontena;

import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.Problem;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TestCertificates.Issued;
import io.kontena.lb.testing.TestCertificates.KeyForm;
import io.kontena.lb.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class CertificateBundlesTest {
    private static final Instant NOW = Instant.now();

    private static CertificateBundles.Result read(Map<String, String> env) {
        return CertificateBundles.read("lb", env, NOW);
    }

    private static Issued cert(String cn, String... sans) {
        return TestCertificates.cert(cn).sans(sans).build();
    }

    @ParameterizedTest
    @CsvSource({"RSA, TRADITIONAL, RSA PRIVATE KEY", "RSA, PKCS8, PRIVATE KEY",
            "EC, TRADITIONAL, EC PRIVATE KEY", "EC, PKCS8, PRIVATE KEY"})
    void readsEachKeyForm(KeyType type, KeyForm form, String pemType) {
        Issued issued = TestCertificates.cert("www.example.com").sans("www.example.com", "example.com")
                .key(type).build();
        String bundle = issued.bundle(form);
        assertThat(bundle).contains("-----BEGIN " + pemType + "-----");

        CertificateBundles.Result result = read(Map.of("SSL_CERTS", bundle));

        assertThat(result.problems()).isEmpty();
        assertThat(result.warnings()).isEmpty();
        assertThat(result.certificates()).singleElement().satisfies(c -> {
            assertThat(c.origin()).isEqualTo("SSL_CERTS#1");
            assertThat(c.dnsNames()).containsExactly("www.example.com", "example.com");
            assertThat(c.key().getAlgorithm()).isEqualTo(type.name());
            assertThat(privateNumber(c.key())).isEqualTo(privateNumber(issued.keyPair().getPrivate()));
            assertThat(c.leaf()).isEqualTo(issued.certificate());
            assertThat(c.notAfter()).isEqualTo(issued.certificate().getNotAfter().toInstant());
        });
    }

    @Test
    void splitsJoinedBundlesAndKeepsTheirOrderThenNamedVariablesByName() {
        Issued a = cert("a.example.com");
        Issued b = TestCertificates.cert("b.example.com").key(KeyType.RSA).build();
        Issued c = cert("c.example.com");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SSL_CERT_zeta", cert("zeta.example.com").bundle());
        env.put("SSL_CERT_alpha", cert("alpha.example.com").bundle(KeyForm.PKCS8));
        // several vault secrets mapped to SSL_CERTS arrive joined with a newline
        env.put("SSL_CERTS", a.bundle() + "\n" + b.bundle(KeyForm.PKCS8) + c.bundle());

        CertificateBundles.Result result = read(env);

        assertThat(result.problems()).isEmpty();
        assertThat(result.certificates()).extracting(Certificate::origin)
                .containsExactly("SSL_CERTS#1", "SSL_CERTS#2", "SSL_CERTS#3", "SSL_CERT_alpha", "SSL_CERT_zeta");
        assertThat(result.certificates()).extracting(cert -> cert.dnsNames().get(0)).containsExactly(
                "a.example.com", "b.example.com", "c.example.com", "alpha.example.com", "zeta.example.com");
    }

    @Test
    void keepsIntermediatesInTheChainAndIgnoresTextBetweenBlocks() {
        Issued ca = TestCertificates.cert("Test CA").ca().key(KeyType.RSA).build();
        Issued leaf = TestCertificates.cert("shop.example.com").issuedBy(ca).build();
        String bundle = "Bag Attributes\n    friendlyName: shop\n" + leaf.certificatePem()
                + "subject=CN=Test CA\n" + ca.certificatePem() + leaf.keyPem(KeyForm.PKCS8);

        CertificateBundles.Result result = read(Map.of("SSL_CERT_shop", bundle));

        assertThat(result.problems()).isEmpty();
        assertThat(result.warnings()).isEmpty();
        assertThat(result.certificates().get(0).chain()).containsExactly(leaf.certificate(), ca.certificate());
    }

    @Test
    void warnsAboutIntermediatesOutOfOrder() {
        Issued ca = TestCertificates.cert("Test CA").ca().build();
        Issued leaf = TestCertificates.cert("shop.example.com").issuedBy(ca).key(TestCertificates.newKey(KeyType.EC))
                .build();
        Issued other = cert("unrelated.example.com");
        String bundle = leaf.certificatePem() + other.certificatePem() + leaf.keyPem(KeyForm.TRADITIONAL);

        CertificateBundles.Result result = read(Map.of("SSL_CERTS", bundle));

        assertThat(result.certificates()).hasSize(1);
        assertThat(result.warnings()).singleElement().extracting(Problem::message).asString()
                .contains("did not issue");
    }

    @Test
    void skipsACorruptedBundleAndServesTheRest() {
        Issued good1 = cert("one.example.com");
        Issued bad = cert("two.example.com");
        Issued good2 = cert("three.example.com");
        String damaged = bad.bundle().replaceFirst("(?m)^(MII.{10})", "$1!!!!");

        CertificateBundles.Result result = read(Map.of("SSL_CERTS", good1.bundle() + damaged + good2.bundle()));

        assertThat(result.certificates()).extracting(Certificate::origin).containsExactly("SSL_CERTS#1", "SSL_CERTS#3");
        assertThat(result.problems()).singleElement().satisfies(p -> {
            assertThat(p.subject()).isEqualTo("lb");
            assertThat(p.key()).isEqualTo("SSL_CERTS#2");
            assertThat(p.message()).contains("does not parse");
        });
    }

    @Test
    void skipsAKeyThatDoesNotMatchItsCertificate() {
        Issued rsa = TestCertificates.cert("rsa.example.com").key(KeyType.RSA).build();
        Issued ec = TestCertificates.cert("ec.example.com").build();
        Issued otherRsa = TestCertificates.cert("x").key(TestCertificates.newKey(KeyType.RSA)).build();
        Issued otherEc = TestCertificates.cert("y").key(TestCertificates.newKey(KeyType.EC)).build();

        CertificateBundles.Result result = read(Map.of(
                "SSL_CERT_rsa", rsa.certificatePem() + otherRsa.keyPem(KeyForm.TRADITIONAL),
                "SSL_CERT_ec", ec.certificatePem() + otherEc.keyPem(KeyForm.PKCS8),
                // SEC1 as OpenSSL writes it holds the key's public key, compared before any signature
                "SSL_CERT_ec_sec1", ec.certificatePem() + otherEc.keyPem(KeyForm.TRADITIONAL),
                "SSL_CERT_mixed", ec.certificatePem() + rsa.keyPem(KeyForm.PKCS8),
                "SSL_CERT_ok", cert("ok.example.com").bundle()));

        assertThat(result.certificates()).extracting(Certificate::origin).containsExactly("SSL_CERT_ok");
        assertThat(result.problems()).extracting(Problem::key)
                .containsExactly("SSL_CERT_ec", "SSL_CERT_ec_sec1", "SSL_CERT_mixed", "SSL_CERT_rsa");
        assertThat(result.problems()).allSatisfy(p -> assertThat(p.message()).contains("does not match"));
        assertThat(result.problems().get(0).message()).contains("CN=ec.example.com");
    }

    @Test
    void namesEachStructuralMistake() {
        Issued issued = cert("www.example.com");
        String certPem = issued.certificatePem();
        String keyPem = issued.keyPem(KeyForm.TRADITIONAL);

        CertificateBundles.Result result = read(Map.of(
                "SSL_CERT_nokey", certPem,
                "SSL_CERT_nocert", keyPem,
                "SSL_CERT_keyfirst", keyPem + certPem,
                "SSL_CERT_truncated", issued.bundle().substring(0, issued.bundle().length() - 40),
                "SSL_CERT_empty", "not a pem at all",
                "SSL_CERT_request", "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
                        + keyPem));

        assertThat(result.certificates()).isEmpty();
        assertThat(result.problems()).extracting(p -> p.key() + ": " + p.message()).satisfiesExactly(
                m -> assertThat(m).startsWith("SSL_CERT_empty: ").contains("no PEM block"),
                m -> assertThat(m).startsWith("SSL_CERT_keyfirst: ").contains("private key must come last"),
                m -> assertThat(m).startsWith("SSL_CERT_nocert: ").contains("no certificate"),
                m -> assertThat(m).startsWith("SSL_CERT_nokey: ").contains("no private key"),
                m -> assertThat(m).startsWith("SSL_CERT_request: ").contains("neither a certificate nor a private key"),
                m -> assertThat(m).startsWith("SSL_CERT_truncated: ").contains("no END line"));
        assertNoKeyMaterial(result.problems(), keyPem);
    }

    @Test
    void aKeyFirstBundleAtTheEndOfSslCertsIsOneProblemNotTwo() {
        Issued first = cert("first.example.com");
        Issued wrong = cert("wrong.example.com");
        String joined = first.bundle() + wrong.keyPem(KeyForm.PKCS8) + wrong.certificatePem();

        CertificateBundles.Result result = read(Map.of("SSL_CERTS", joined));

        assertThat(result.certificates()).extracting(Certificate::origin).containsExactly("SSL_CERTS#1");
        assertThat(result.problems()).singleElement().satisfies(p -> {
            assertThat(p.key()).isEqualTo("SSL_CERTS#2");
            assertThat(p.message()).contains("private key must come last");
        });
    }

    @Test
    void aKeyFirstBundleInsideSslCertsSaysTheCertificateMustComeFirst() {
        Issued first = cert("first.example.com");
        Issued wrong = cert("wrong.example.com");
        Issued last = TestCertificates.cert("last.example.com").key(KeyType.RSA).build();
        String joined = first.bundle() + wrong.keyPem(KeyForm.PKCS8) + wrong.certificatePem() + last.bundle();

        CertificateBundles.Result result = read(Map.of("SSL_CERTS", joined));

        // a key standing alone ends a bundle; what follows up to the next key is the next one
        assertThat(result.certificates()).extracting(Certificate::origin).containsExactly("SSL_CERTS#1");
        assertThat(result.problems()).extracting(p -> p.key() + ": " + p.message()).satisfiesExactly(
                m -> assertThat(m).startsWith("SSL_CERTS#2: ").contains("the certificate must come first"),
                m -> assertThat(m).startsWith("SSL_CERTS#3: ").contains("does not match"));
    }

    @Test
    void warnsAboutExpiredAndSoonExpiringCertificatesButServesThem() {
        Issued expired = TestCertificates.cert("old.example.com")
                .valid(NOW.minus(Duration.ofDays(400)), NOW.minus(Duration.ofDays(3))).build();
        // a minute more: the certificate keeps whole seconds, and "in 5 days" must not become 4 days 23:59:59
        Issued soon = TestCertificates.cert("soon.example.com").expiresIn(Duration.ofDays(5).plusMinutes(1)).build();
        Issued fine = TestCertificates.cert("fine.example.com").expiresIn(Duration.ofDays(15)).build();

        CertificateBundles.Result result = read(Map.of("SSL_CERTS", expired.bundle() + soon.bundle() + fine.bundle()));

        assertThat(result.problems()).isEmpty();
        assertThat(result.certificates()).hasSize(3);
        assertThat(result.warnings()).extracting(p -> p.key() + ": " + p.message()).satisfiesExactly(
                m -> assertThat(m).startsWith("SSL_CERTS#1: ").contains("CN=old.example.com expired on"),
                m -> assertThat(m).startsWith("SSL_CERTS#2: ").contains("expires on").contains("(in 5 days)"));
    }

    @Test
    void hostNamesComeFromCnAndSansLowerCasedWithoutNonHostCns() {
        Issued wildcard = TestCertificates.cert("*.Example.COM").sans("*.example.com", "Example.com.").build();
        Issued noName = TestCertificates.cert("*").build();   // the seed document's self-signed example

        CertificateBundles.Result result = read(Map.of("SSL_CERTS", wildcard.bundle() + noName.bundle()));

        assertThat(result.certificates().get(0).dnsNames()).containsExactly("*.example.com", "example.com");
        assertThat(result.certificates().get(1).dnsNames()).isEmpty();
        assertThat(result.warnings()).singleElement().satisfies(w -> {
            assertThat(w.key()).isEqualTo("SSL_CERTS#2");
            assertThat(w.message()).contains("serves only as the default");
        });
    }

    @Test
    void readsTlsSettings() {
        Issued one = cert("one.example.com");
        CertificateBundles.Result defaults = read(Map.of("SSL_CERTS", one.bundle()));
        assertThat(defaults.settings().http2()).isTrue();
        assertThat(defaults.settings().ciphers()).isEmpty();
        assertThat(defaults.settings().defaultCertificate()).isEmpty();

        CertificateBundles.Result set = read(Map.of("SSL_CERTS", one.bundle(),
                "KONTENA_LB_HTTP2", "false",
                "KONTENA_LB_SSL_CIPHERS", "ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL:HIGH:NOT-A-CIPHER",
                "KONTENA_LB_DEFAULT_CERT", "nothing.example.org"));
        assertThat(set.settings().http2()).isFalse();
        assertThat(set.settings().ciphers()).hasSize(1);
        assertThat(set.settings().defaultCertificate()).isEqualTo(Optional.of("nothing.example.org"));
        assertThat(set.problems()).extracting(Problem::key).containsExactly("KONTENA_LB_SSL_CIPHERS",
                "KONTENA_LB_DEFAULT_CERT");
        assertThat(set.problems().get(0).message()).contains("HIGH, NOT-A-CIPHER").contains("left out");
        assertThat(set.problems().get(1).message()).contains("SSL_CERTS#1");

        CertificateBundles.Result bad = read(Map.of("KONTENA_LB_HTTP2", "maybe"));
        assertThat(bad.settings().http2()).isTrue();
        assertThat(bad.problems()).extracting(Problem::key).containsExactly("KONTENA_LB_HTTP2");
    }

    @Test
    void warnsAboutAKeyThatNoListedSuiteSignsWith() {
        Issued ec = TestCertificates.cert("ec.example.com").key(KeyType.EC).build();
        Issued rsa = TestCertificates.cert("rsa.example.com").key(KeyType.RSA).build();
        Map<String, String> both = Map.of("SSL_CERT_ec", ec.bundle(), "SSL_CERT_rsa", rsa.bundle());

        CertificateBundles.Result rsaOnly = read(with(both, "KONTENA_LB_SSL_CIPHERS", "ECDHE-RSA-AES128-GCM-SHA256"));
        assertThat(rsaOnly.problems()).isEmpty();
        assertThat(rsaOnly.certificates()).hasSize(2);
        assertThat(rsaOnly.warnings()).singleElement().satisfies(w -> {
            assertThat(w.key()).isEqualTo("SSL_CERT_ec");
            assertThat(w.message()).contains("EC key", "KONTENA_LB_SSL_CIPHERS", "ECDSA", "only TLS 1.3 clients");
        });

        CertificateBundles.Result ecdsaOnly = read(with(both, "KONTENA_LB_SSL_CIPHERS",
                "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256"));
        assertThat(ecdsaOnly.warnings()).singleElement().satisfies(w -> assertThat(w.key()).isEqualTo("SSL_CERT_rsa"));

        CertificateBundles.Result mixed = read(with(both, "KONTENA_LB_SSL_CIPHERS",
                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"));
        assertThat(mixed.warnings()).isEmpty();
    }

    private static Map<String, String> with(Map<String, String> env, String name, String value) {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put(name, value);
        return all;
    }

    @Test
    void problemsNeverQuoteKeyMaterial() {
        Issued issued = cert("www.example.com");
        Issued other = TestCertificates.cert("x").key(TestCertificates.newKey(KeyType.EC)).build();
        String keyPem = other.keyPem(KeyForm.PKCS8);
        String damagedKey = keyPem.replaceFirst("(?m)^(.{20})", "$1%%%");

        CertificateBundles.Result result = read(Map.of(
                "SSL_CERT_mismatch", issued.certificatePem() + keyPem,
                "SSL_CERT_damaged", issued.certificatePem() + damagedKey));

        assertThat(result.problems()).hasSize(2);
        assertNoKeyMaterial(result.problems(), keyPem);
        assertNoKeyMaterial(result.problems(), damagedKey);
    }

    /** The same key read from PKCS#1 or PKCS#8 may differ in encoding, never in this. */
    private static java.math.BigInteger privateNumber(java.security.PrivateKey key) {
        return key instanceof java.security.interfaces.RSAPrivateKey rsa
                ? rsa.getPrivateExponent() : ((java.security.interfaces.ECPrivateKey) key).getS();
    }

    private static void assertNoKeyMaterial(List<Problem> problems, String keyPem) {
        List<String> keyLines = keyPem.lines().filter(l -> !l.startsWith("-----")).toList();
        for (Problem p : problems) {
            for (String line : keyLines) {
                assertThat(p.toString()).doesNotContain(line.substring(0, Math.min(16, line.length())));
            }
        }
    }
}
