package io.kontena.lb.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestCertificates;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTPS end to end: certificates from SSL_CERTS in a stack file, chosen by SNI, requests routed as over HTTP. */
class HttpsProxyTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @Test
    void servesHttpsWithTheCertificateForTheNameAndForwardsAsHttps() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        WhoAmI api = lb.whoami("api-1");
        String www = TestCertificates.cert("www.example.com").build().bundle();
        String wildcard = TestCertificates.cert("*.api.example.com").build().bundle();
        String yaml = """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:80", "0:443"]
                    environment:
                      SSL_CERTS: |
                %s
                      SSL_CERT_api: |
                %s
                  web:
                    image: web
                    environment: {KONTENA_LB_VIRTUAL_HOSTS: www.example.com}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                  api:
                    image: api
                    environment: {KONTENA_LB_VIRTUAL_HOSTS: "*.api.example.com"}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(www.indent(8), wildcard.indent(8), web.port(), api.port());
        LbConfig config = Translator.translate(StackFile.parse(yaml, "kontena.yml"), Optional.empty());
        assertThat(config.problems()).isEmpty();
        assertThat(config.https()).isPresent();
        lb.apply(config);
        int port = lb.runtime().httpsPort();

        TlsTestClient tls = new TlsTestClient();
        try (TlsTestClient.Connection c = tls.connect(port, "www.example.com")) {
            assertThat(c.peer().getSubjectX500Principal().getName()).contains("CN=www.example.com");
            RawHttp http = new RawHttp(c.socket);
            for (int i = 0; i < 3; i++) { // keep-alive over TLS
                RawHttp.Response r = http.send("GET /x HTTP/1.1\r\nHost: www.example.com\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.instance()).isEqualTo("web-1");
                assertThat(r.echoed("x-forwarded-proto")).isEqualTo("https");
                assertThat(r.echoed("x-forwarded-port")).isEqualTo(Integer.toString(port));
            }
        }
        try (TlsTestClient.Connection c = tls.connect(port, "v1.api.example.com")) {
            assertThat(c.peer().getSubjectX500Principal().getName()).contains("CN=*.api.example.com");
            RawHttp.Response r = new RawHttp(c.socket)
                    .send("GET / HTTP/1.1\r\nHost: v1.api.example.com\r\nConnection: close\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("api-1");
        }
        // Plain HTTP still serves alongside.
        assertThat(RawHttp.get(lb.httpPort(), "www.example.com", "/").echoed("x-forwarded-proto")).isEqualTo("http");
    }

    @Test
    void aCorruptedBundleAndAMismatchedKeyAreSkippedWhileTheRestServe() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        TestCertificates.Issued first = TestCertificates.cert("first.example.com").build();
        TestCertificates.Issued corrupted = TestCertificates.cert("corrupted.example.com").build();
        TestCertificates.Issued mismatched = TestCertificates.cert("mismatched.example.com").build();
        TestCertificates.Issued stranger = TestCertificates.cert("stranger")
                .key(TestCertificates.newKey(TestCertificates.KeyType.EC)).build();
        TestCertificates.Issued named = TestCertificates.cert("named.example.com")
                .key(TestCertificates.KeyType.RSA).build();
        String sslCerts = first.bundle()
                + corrupted.bundle().replaceFirst("(?m)^(MII.{10})", "$1!!!!")
                + mismatched.certificatePem() + stranger.keyPem(TestCertificates.KeyForm.PKCS8);
        String yaml = """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:80", "0:443"]
                    environment:
                      SSL_CERTS: |
                %s
                      SSL_CERT_named: |
                %s
                  web:
                    image: web
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(sslCerts.indent(8), named.bundle().indent(8), web.port());
        LbConfig config = Translator.translate(StackFile.parse(yaml, "kontena.yml"), Optional.empty());

        assertThat(config.problems()).extracting(p -> p.subject() + " " + p.key()).containsExactly(
                "lb SSL_CERTS#2", "lb SSL_CERTS#3");
        assertThat(config.problems().get(0).message()).contains("does not parse");
        assertThat(config.problems().get(1).message()).contains("does not match", "CN=mismatched.example.com");
        lb.apply(config);
        int port = lb.runtime().httpsPort();

        TlsTestClient tls = new TlsTestClient();
        assertThat(tls.certificateFor(port, "first.example.com")).isEqualTo(first.certificate());
        assertThat(tls.certificateFor(port, "named.example.com")).isEqualTo(named.certificate());
        // the names of the skipped bundles get the default, the first valid certificate
        assertThat(tls.certificateFor(port, "corrupted.example.com")).isEqualTo(first.certificate());
        assertThat(tls.certificateFor(port, "mismatched.example.com")).isEqualTo(first.certificate());
        try (TlsTestClient.Connection c = tls.connect(port, "named.example.com")) {
            RawHttp.Response r = new RawHttp(c.socket)
                    .send("GET / HTTP/1.1\r\nHost: named.example.com\r\nConnection: close\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("web-1");
        }
    }
}
