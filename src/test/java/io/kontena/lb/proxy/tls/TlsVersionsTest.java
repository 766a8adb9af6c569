package io.kontena.lb.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.TestCertificates;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The TLS versions that KONTENA_LB_GLOBAL_SETTINGS leaves on are the ones a client can have. */
class TlsVersionsTest {
    private static final TestCertificates.Issued CERTIFICATE = TestCertificates.cert("www.example.com").build();

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private int serve(String globalSettings) {
        CertificateBundles.Result read = CertificateBundles.read("lb", Map.of(CertificateBundles.SSL_CERTS,
                CERTIFICATE.bundle(), "KONTENA_LB_GLOBAL_SETTINGS", globalSettings), Instant.now());
        assertThat(read.problems()).isEmpty();
        lb.serveHttps(read.settings(), List.of(CERTIFICATE), List.of(new HttpService("web", Balance.ROUND_ROBIN,
                List.of(), List.of("/"), false, false, List.of(ProxyFixture.at(lb.whoami("web-1"))), Timeouts.DEFAULTS,
                HeaderRules.NONE, Optional.empty(), Optional.empty(), Optional.empty())), List.of());
        return lb.httpsPort();
    }

    private static String handshake(int port, String protocol) throws Exception {
        try (TlsTestClient.Connection c = new TlsTestClient().connect(port, "www.example.com", List.of(),
                List.of(protocol), List.of())) {
            return c.socket.getSession().getProtocol();
        }
    }

    @Test
    void withoutTls12OnlyTls13Handshakes() throws Exception {
        int port = serve("ssl-default-bind-options no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12");
        assertThat(handshake(port, "TLSv1.3")).isEqualTo("TLSv1.3");
        assertThatThrownBy(() -> handshake(port, "TLSv1.2")).isInstanceOf(SSLException.class);
    }

    @Test
    void withTls12AtMostOnlyTls12Handshakes() throws Exception {
        int port = serve("ssl-default-bind-options ssl-max-ver TLSv1.2");
        assertThat(handshake(port, "TLSv1.2")).isEqualTo("TLSv1.2");
        assertThatThrownBy(() -> handshake(port, "TLSv1.3")).isInstanceOf(SSLException.class);
    }
}
