package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Less common exchanges: early answers, upstream-closed connections, bodiless statuses, timeouts, aborts. */
class HttpEdgeCaseTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private static HttpService to(RawServer up, Timeouts timeouts) {
        return new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(new Upstream("127.0.0.1", up.port())), timeouts, HeaderRules.NONE);
    }

    @Test
    void upstreamAnsweringWithConnectionCloseKeepsTheClientConnection() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        })) {
            lb.serve(to(up, Timeouts.DEFAULTS));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                for (int i = 0; i < 5; i++) {
                    RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
                    assertThat(r.text()).isEqualTo("ok");
                    assertThat(r.header("connection")).isNull();
                }
            }
            assertThat(up.accepted()).isEqualTo(5);
        }
    }

    @Test
    void clientConnectionCloseIsHonoured() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    + "GET /second HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(c.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void bodilessStatusesPassAndTheConnectionGoesOn() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            for (int i = 0; ; i++) {
                if (RawServer.readHead(in) == null) {
                    return;
                }
                RawServer.write(out, i % 2 == 0 ? "HTTP/1.1 204 No Content\r\nX-N: " + i + "\r\n\r\n"
                        : "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nX-N: " + i + "\r\n\r\n");
            }
        })) {
            lb.serve(to(up, Timeouts.DEFAULTS));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                for (int i = 0; i < 4; i++) {
                    RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
                    assertThat(r.status()).isEqualTo(i % 2 == 0 ? 204 : 304);
                    assertThat(r.header("transfer-encoding")).isNull();
                }
                // nothing stray came after the last answer: the next request gets a proper answer
                assertThat(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(204);
            }
        }
    }

    @Test
    void earlyAnswerBeforeTheBodyEndsClosesTheClientAfterIt() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig");
            in.readAllBytes();
        })) {
            lb.serve(to(up, Timeouts.DEFAULTS));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + "x".repeat(1000));
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(413);
                assertThat(r.text()).isEqualTo("big");
                assertThat(r.header("connection")).isEqualToIgnoringCase("close");
                assertThat(c.isClosedByPeer()).isTrue();
            }
        }
    }

    @Test
    void silentUpstreamTimesOutWith504() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            in.readAllBytes(); // never answers
        })) {
            lb.serve(to(up, Timeouts.DEFAULTS.withServer(Duration.ofMillis(300))));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(504);
            }
        }
    }

    @Test
    void stalledRequestBodyTimesOutWith408() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(ProxyFixture.at(a)), Timeouts.DEFAULTS.withClient(Duration.ofMillis(300)), HeaderRules.NONE));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part").read();
            assertThat(r.status()).isEqualTo(408);
        }
    }

    @Test
    void clientLeavingMidResponseDoesNotBreakTheNextClient() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of(), a));
        for (int i = 0; i < 5; i++) {
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                c.send("GET /big?size=50000000 HTTP/1.1\r\nHost: x\r\n\r\n");
                c.readLine(); // the status line, then leave
            }
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n");
                c.out().write(new byte[1_000_000]);
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (lb.runtime().openConnections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(lb.runtime().openConnections()).isZero();
        RawHttp.Response r = RawHttp.get(lb.httpPort(), "x", "/after");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoed("request")).isEqualTo("GET /after HTTP/1.1");
    }

    @Test
    void pipelinedRequestsMixingLocalAndProxiedAnswersStayInOrder() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of("good"), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            c.send("GET /1 HTTP/1.1\r\nHost: good\r\n\r\n"
                    + "GET /2 HTTP/1.1\r\nHost: nowhere\r\n\r\n"
                    + "GET /3 HTTP/1.1\r\nHost: nowhere\r\n\r\n"
                    + "POST /4 HTTP/1.1\r\nHost: good\r\nContent-Length: 4\r\n\r\nbody"
                    + "GET /5 HTTP/1.1\r\nHost: good\r\n\r\n");
            assertThat(c.read().echoed("request")).isEqualTo("GET /1 HTTP/1.1");
            assertThat(c.read().status()).isEqualTo(503);
            assertThat(c.read().status()).isEqualTo(503);
            RawHttp.Response post = c.read();
            assertThat(post.echoed("request")).isEqualTo("POST /4 HTTP/1.1");
            assertThat(post.echoed("body-bytes")).isEqualTo("4");
            assertThat(c.read().echoed("request")).isEqualTo("GET /5 HTTP/1.1");
        }
        // a local answer to a request whose body was not read ends the connection, and says so
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("POST /2 HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 4\r\n\r\nbody").read();
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(c.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void refusedUpgradeIsAnOrdinaryExchange() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            // WhoAmI only upgrades to websocket: this one is answered as a plain request
            RawHttp.Response r = c.send("GET /u HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
                    .read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("upgrade")).isEqualTo("h2c");
            assertThat(c.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n").read().echoed("request"))
                    .isEqualTo("GET /next HTTP/1.1");
        }
    }

    @Test
    void http10PostWithBodyIsForwarded() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("POST /p HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("body-bytes")).isEqualTo("5");
            assertThat(r.statusLine()).startsWith("HTTP/1.");
            assertThat(c.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void expectContinueToAServiceWithoutUpstreamsGetsTheFinalAnswerAtOnce() throws Exception {
        lb.serve(new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false, List.of(),
                Timeouts.DEFAULTS, HeaderRules.NONE));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
                    .read();
            assertThat(r.status()).isEqualTo(503);
        }
    }
}
