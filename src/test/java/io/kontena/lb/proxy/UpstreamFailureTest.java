package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.at;
import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Upstreams that are down or break: what the client sees. */
class UpstreamFailureTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    /** A loopback address nothing listens on: connecting to it is refused at once. */
    static Upstream deadUpstream() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return new Upstream("127.0.0.1", s.getLocalPort());
        }
    }

    @Test
    void deadUpstreamIsRetriedOnAnotherWithoutTheClientNoticing() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(deadUpstream(), at(a), deadUpstream())));
        for (int i = 0; i < 12; i++) {
            RawHttp.Response r = RawHttp.get(lb.httpPort(), "x", "/");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.instance()).isEqualTo("a");
        }
        // a request with a body is retried too: a failed connect sent nothing
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            for (int i = 0; i < 4; i++) {
                RawHttp.Response r = c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoed("body-bytes")).isEqualTo("3");
            }
        }
    }

    @Test
    void allUpstreamsDeadIs503() throws Exception {
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(deadUpstream(), deadUpstream())));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.text()).contains("web");
            // and the client connection is still usable
            assertThat(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(503);
        }
    }

    @Test
    void upstreamClosingMidResponseWithLengthClosesTheClient() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
        })) {
            lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body().length).isLessThan(100000);
                assertThat(c.isClosedByPeer()).isTrue();
            }
        }
    }

    @Test
    void upstreamClosingMidChunkedResponseNeverEndsTheBodyCleanly() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        })) {
            lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
            for (String version : List.of("HTTP/1.1", "HTTP/1.0")) {
                try (RawHttp c = new RawHttp(lb.httpPort())) {
                    c.send("GET / " + version + "\r\nHost: x\r\n\r\n");
                    if (version.equals("HTTP/1.1")) {
                        // the last chunk must never come
                        assertThatThrownBy(c::read).isInstanceOf(IOException.class);
                    } else {
                        // an HTTP/1.0 client cannot tell a cut body from a whole one by its framing, but it
                        // must not receive a Content-Length the body then falls short of
                        RawHttp.Response r = c.read();
                        assertThat(r.header("content-length")).isNull();
                        assertThat(r.text()).isEqualTo("hello");
                    }
                }
            }
        }
    }

    @Test
    void upstreamClosingWithoutAnsweringIs502() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> RawServer.readHead(in))) {
            lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(502);
            }
        }
    }

    @Test
    void upstreamSendingGarbageIs502() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "this is not HTTP\r\n\r\n");
        })) {
            lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
            RawHttp.Response r = RawHttp.get(lb.httpPort(), "x", "/");
            assertThat(r.status()).isEqualTo(502);
        }
    }

    @Test
    void pooledConnectionClosedByTheUpstreamIsReplacedTransparently() throws Exception {
        // answers one request per connection while claiming keep-alive, then closes
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        })) {
            lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                for (int i = 0; i < 20; i++) {
                    RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
                    assertThat(r.status()).as("request %d", i).isEqualTo(200);
                    assertThat(r.text()).isEqualTo("ok");
                }
            }
        }
    }
}
