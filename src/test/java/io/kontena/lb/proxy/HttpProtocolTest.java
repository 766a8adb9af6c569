package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTP/1.x semantics a proxy owes its clients and upstreams, over real sockets. */
class HttpProtocolTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private WhoAmI serveOne() {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of(), a));
        return a;
    }

    @Test
    void forwardedHeadersAreAppendedAndSet() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET /x HTTP/1.1\r\nHost: www.example.com:8080\r\n"
                    + "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nX-Forwarded-Proto: https\r\n\r\n").read();
            assertThat(r.echoed("x-forwarded-for")).isEqualTo("10.0.0.1, 10.0.0.2, 127.0.0.1");
            assertThat(r.echoed("x-forwarded-proto")).isEqualTo("http");
            assertThat(r.echoed("x-forwarded-port")).isEqualTo(Integer.toString(lb.httpPort()));
            assertThat(r.echoed("x-forwarded-host")).isEqualTo("www.example.com:8080");
            r = c.send("GET /x HTTP/1.1\r\nHost: b\r\n\r\n").read();
            assertThat(r.echoed("x-forwarded-for")).isEqualTo("127.0.0.1");
        }
        // the address is the client's own
        try (RawHttp c = new RawHttp(lb.httpPort(), "127.0.0.5")) {
            RawHttp.Response r = c.send("GET /x HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n").read();
            assertThat(r.echoed("x-forwarded-for")).isEqualTo("192.0.2.1, 127.0.0.5");
        }
    }

    @Test
    void hopByHopHeadersAreNotForwarded() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret-Hop\r\n"
                    + "X-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: gzip\r\nProxy-Connection: keep-alive\r\n"
                    + "X-End-To-End: kept\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("x-secret-hop")).isNull();
            assertThat(r.echoed("keep-alive")).isNull();
            assertThat(r.echoed("te")).isNull();
            assertThat(r.echoed("proxy-connection")).isNull();
            assertThat(r.echoed("x-end-to-end")).isEqualTo("kept");
            String connection = r.echoed("connection");
            assertThat(connection == null ? "" : connection.toLowerCase()).doesNotContain("x-secret-hop");
            // the client connection is still open
            assertThat(c.send("GET /y HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        }
    }

    @Test
    void hopByHopHeadersOfTheResponseAreNotForwarded() throws Exception {
        try (RawServer up = new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nConnection: X-Up-Hop\r\nX-Up-Hop: 1\r\nKeep-Alive: timeout=9\r\n"
                    + "X-Kept: yes\r\nContent-Length: 2\r\n\r\nok");
        })) {
            lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
            RawHttp.Response r = RawHttp.get(lb.httpPort(), "a", "/");
            assertThat(r.text()).isEqualTo("ok");
            assertThat(r.header("x-up-hop")).isNull();
            assertThat(r.header("keep-alive")).isNull();
            assertThat(r.header("x-kept")).isEqualTo("yes");
        }
    }

    @Test
    void http10ClientWithoutKeepAliveGetsItsAnswerAndAClose() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET /x HTTP/1.0\r\nHost: a\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.instance()).isEqualTo("a");
            assertThat(c.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void http10ClientWithoutHostIsServed() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET /x HTTP/1.0\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
        }
    }

    @Test
    void http10ClientWithKeepAliveKeepsItsConnection() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            for (int i = 0; i < 3; i++) {
                RawHttp.Response r = c.send("GET /x HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("connection")).isEqualToIgnoringCase("keep-alive");
                assertThat(r.header("content-length")).isNotNull();
            }
        }
    }

    /** An upstream that answers with a chunked body, or one delimited by the end of the connection. */
    private static RawServer streamingUpstream(boolean chunked) throws Exception {
        return new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            if (chunked) {
                RawServer.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
                s.shutdownOutput();
                in.readAllBytes(); // until the proxy closes or reuses... it may keep it; the test closes us
            } else {
                RawServer.write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world");
            }
        });
    }

    @Test
    void chunkedAndCloseDelimitedBodiesReachHttp10ClientsWhole() throws Exception {
        for (boolean chunked : new boolean[] {true, false}) {
            try (RawServer up = streamingUpstream(chunked)) {
                lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
                for (String connection : new String[] {"", "Connection: keep-alive\r\n"}) {
                    try (RawHttp c = new RawHttp(lb.httpPort())) {
                        RawHttp.Response r = c.send("GET / HTTP/1.0\r\nHost: a\r\n" + connection + "\r\n").read();
                        assertThat(r.status()).as("chunked=%s %s", chunked, connection).isEqualTo(200);
                        assertThat(r.header("transfer-encoding")).isNull();
                        assertThat(r.text()).isEqualTo("hello world");
                        if (r.header("content-length") == null) {
                            assertThat(r.header("connection")).isNotEqualToIgnoringCase("keep-alive");
                        }
                    }
                }
                // and an HTTP/1.1 client gets them whole as well
                RawHttp.Response r = RawHttp.get(lb.httpPort(), "a", "/");
                assertThat(r.text()).isEqualTo("hello world");
            }
        }
    }

    @Test
    void headAnswerHasNoBodyAndTheConnectionStaysUsable() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response head = c.send("HEAD /x?size=1000 HTTP/1.1\r\nHost: a\r\n\r\n").read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length")).isEqualTo("1000");
            RawHttp.Response next = c.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.echoed("request")).isEqualTo("GET /next HTTP/1.1");
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        lb.serve(http("web", List.of(), List.of(), a, b));
        StringBuilder batch = new StringBuilder();
        // the first answers slowly, so an out-of-order proxy would answer the second first
        batch.append("GET /0?wait=200 HTTP/1.1\r\nHost: a\r\n\r\n");
        for (int i = 1; i < 6; i++) {
            batch.append("GET /").append(i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        batch.append("POST /6 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        batch.append("GET /7 HTTP/1.1\r\nHost: a\r\n\r\n");
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            c.send(batch.toString());
            for (int i = 0; i < 8; i++) {
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoed("request")).startsWith((i == 6 ? "POST /" : "GET /") + i);
                if (i == 6) {
                    assertThat(r.echoed("body-bytes")).isEqualTo("5");
                }
            }
        }
    }

    @Test
    void expectContinueGetsA100ThenTheAnswer() throws Exception {
        serveOne();
        CRC32 crc = new CRC32();
        crc.update("hello world".getBytes(StandardCharsets.US_ASCII));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            // the second and third go over a pooled upstream connection
            for (int round = 0; round < 3; round++) {
                c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
                RawHttp.Response cont = c.read();
                assertThat(cont.status()).isEqualTo(100);
                c.send("hello world");
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoed("body-bytes")).isEqualTo("11");
                assertThat(r.echoed("body-crc32")).isEqualTo(Long.toHexString(crc.getValue()));
            }
            // and the connection goes on
            assertThat(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        }
    }

    @Test
    void chunkedRequestBodyIsStreamedToTheUpstream() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").read();
            assertThat(r.echoed("body-bytes")).isEqualTo("11");
            assertThat(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        }
    }

    @Test
    void tooLargeHeadersAre431() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "x".repeat(20_000) + "\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(431);
        }
    }

    @Test
    void tooLongRequestLineIs414() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(414);
        }
    }

    @Test
    void malformedRequestsAre400() throws Exception {
        serveOne();
        for (String bad : List.of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
                "GET / HTTP/1.1\r\n\r\n",
                // conflicting lengths could make the proxy and the upstream see different requests
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                "NOT-HTTP\r\n\r\n")) {
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                RawHttp.Response r = c.send(bad).read();
                assertThat(r.status()).as(bad).isEqualTo(400);
            }
        }
    }

    @Test
    void largeChunkedUploadAndDownloadStreamIntact() throws Exception {
        serveOne();
        java.util.Random random = new java.util.Random(7);
        CRC32 crc = new CRC32();
        long total = 0;
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            c.out().write("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 200; i++) {
                byte[] chunk = new byte[1 + random.nextInt(200_000)];
                random.nextBytes(chunk);
                crc.update(chunk);
                total += chunk.length;
                c.out().write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                c.out().write(chunk);
                c.out().write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            c.send("0\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.echoed("body-bytes")).isEqualTo(Long.toString(total));
            assertThat(r.echoed("body-crc32")).isEqualTo(Long.toHexString(crc.getValue()));
            RawHttp.Response down = c.send("GET /d?size=30000000 HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(down.body()).hasSize(30_000_000);
            assertThat(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        }
    }

    @Test
    void contentLengthWithChunkedIsNeverReadByTheLength() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").read();
            // either refused (RFC 9112 allows it) or read as chunked, never by the length
            assertThat(r.status()).isIn(200, 400);
            if (r.status() == 200) {
                assertThat(r.echoed("body-bytes")).isEqualTo("5");
                assertThat(r.echoed("content-length")).isNull();
            } else {
                assertThat(c.isClosedByPeer()).isTrue();
            }
        }
    }

    @Test
    void asteriskFormOptionsIsAnsweredWithoutHarm() throws Exception {
        serveOne();
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(r.status()).isIn(200, 400, 503);
            assertThat(c.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        }
    }
}
