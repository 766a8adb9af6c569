package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Frontend;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Paths the load balancer answers itself, before any service, on any host. */
class LocalAnswersProxyTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @Test
    void theHealthUriAndAChallengeAreAnsweredAndEverythingElseIsRouted() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        lb.apply(new LbConfig(Optional.of(0), List.of(ProxyFixture.http("web", List.of(), List.of("/"), web)),
                List.of(), List.of(), Optional.empty(),
                new Frontend(Map.of("/healthz", "OK\n", "/.well-known/acme-challenge/tok", "tok.thumb"), false,
                        Optional.empty())));
        int port = lb.httpPort();
        RawHttp.Response health = RawHttp.get(port, "anything.example", "/healthz?probe=1");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.text()).isEqualTo("OK\n");
        assertThat(health.header("content-type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(RawHttp.get(port, "www.example.com", "/.well-known/acme-challenge/tok").text())
                .isEqualTo("tok.thumb");
        assertThat(RawHttp.get(port, "x", "/healthz/more").instance()).isEqualTo("web-1");
        assertThat(RawHttp.get(port, "x", "/.well-known/acme-challenge/other").instance()).isEqualTo("web-1");
        // a keep-alive connection goes on after an answer of the load balancer's own
        try (RawHttp c = new RawHttp(port)) {
            assertThat(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
            assertThat(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().instance()).isEqualTo("web-1");
        }
    }
}
