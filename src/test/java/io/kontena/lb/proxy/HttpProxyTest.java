package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class HttpProxyTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @Test
    void roundRobinSpreadsRequestsEvenly() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        lb.serve(http("web", List.of(), List.of(), a, b));
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            RawHttp.Response r = RawHttp.get(lb.httpPort(), "example.com", "/x");
            assertThat(r.status()).isEqualTo(200);
            seen.add(r.instance());
        }
        assertThat(seen).containsOnly("a", "b");
        assertThat(seen.stream().filter("a"::equals).count()).isEqualTo(5);
    }

    @Test
    void keepAliveConnectionServesManyRequests() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of("/api"), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            for (int i = 0; i < 5; i++) {
                RawHttp.Response r = c.send("GET /api/users?id=" + i + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoed("request")).isEqualTo("GET /users?id=" + i + " HTTP/1.1");
                assertThat(r.echoed("x-forwarded-for")).isEqualTo("127.0.0.1");
            }
        }
    }

    @Test
    void upstreamConnectionsAreKeptAliveAndSharedByClients() throws Exception {
        // an upstream that answers any number of requests on a connection
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            while (RawServer.readHead(in) != null) {
                RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        }));
        lb.serve(ProxyFixture.http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            for (int i = 0; i < 10; i++) {
                assertThat(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().text()).isEqualTo("ok");
            }
        }
        assertThat(up.accepted()).as("one upstream connection for a keep-alive client").isEqualTo(1);
        for (int i = 0; i < 10; i++) {
            assertThat(RawHttp.get(lb.httpPort(), "x", "/").text()).isEqualTo("ok");
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                assertThat(c.send("GET / HTTP/1.0\r\n\r\n").read().text()).isEqualTo("ok");
            }
        }
        // connections are pooled per event loop, and the clients' connections are spread over the loops
        assertThat(up.accepted()).as("pooled upstream connections").isLessThanOrEqualTo(
                Runtime.getRuntime().availableProcessors());
    }

    @Test
    void noRouteIs503() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of("www.example.com"), List.of(), a));
        RawHttp.Response r = RawHttp.get(lb.httpPort(), "other.example.com", "/");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.text()).contains("503");
    }
}
