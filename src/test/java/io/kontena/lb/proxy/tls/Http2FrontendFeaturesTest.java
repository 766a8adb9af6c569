package io.kontena.lb.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.BasicAuth;
import io.kontena.lb.config.Frontend;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.StickyCookie;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.H2Client;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Over HTTP/2, the same handling before a service as over HTTP/1.1: answers, basic authentication, sticky cookies. */
class Http2FrontendFeaturesTest {
    private static final TestCertificates.Issued CERTIFICATE = TestCertificates.cert("www.example.com").build();

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private static H2Client.Response get(H2Client client, Map<String, String> headers) throws Exception {
        return client.open("GET", "www.example.com", "/", headers, true).response().get(10, TimeUnit.SECONDS);
    }

    @Test
    void healthUriBasicAuthAndStickyCookieOverH2() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        HttpService web = new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(ProxyFixture.at(a), ProxyFixture.at(b)), Timeouts.DEFAULTS, HeaderRules.NONE,
                Optional.empty(), Optional.of(new BasicAuth(List.of(new BasicAuth.User("u", "p", false)))),
                Optional.of(StickyCookie.DEFAULT));
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(CERTIFICATE), List.of(web), List.of(),
                new Frontend(Map.of("/healthz", "OK\n"), false, Optional.empty()));
        String authorization = "Basic " + Base64.getEncoder().encodeToString("u:p".getBytes(StandardCharsets.UTF_8));
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            assertThat(client.get("www.example.com", "/healthz").text()).isEqualTo("OK\n");

            H2Client.Response denied = get(client, Map.of());
            assertThat(denied.status()).isEqualTo(401);
            assertThat(denied.header("www-authenticate")).isEqualTo("Basic realm=\"web\", charset=\"UTF-8\"");

            H2Client.Response first = get(client, Map.of("authorization", authorization));
            assertThat(first.status()).isEqualTo(200);
            String cookie = first.header("set-cookie");
            assertThat(cookie).startsWith("KONTENA_SERVERID=");
            for (int i = 0; i < 4; i++) {
                H2Client.Response again = get(client, Map.of("authorization", authorization,
                        "cookie", cookie.substring(0, cookie.indexOf(';'))));
                assertThat(again.instance()).isEqualTo(first.instance());
                assertThat(again.header("set-cookie")).isNull();
            }
        }
    }
}
