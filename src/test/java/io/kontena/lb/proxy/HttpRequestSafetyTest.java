package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.at;
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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a load balancer in front of the Internet must get right about hostile or unusual clients: ambiguous
 * framing, ambiguous hosts, very deep pipelines, clients that never read.
 */
class HttpRequestSafetyTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    /**
     * An HTTP/1.1 upstream that records every request line it parses, reading each body by its framing as
     * received, and answers each with "ok".
     */
    private RawServer recordingUpstream(List<String> requestLines) throws IOException {
        return lb.closeAfter(new RawServer((s, in, out) -> {
            String head;
            while ((head = RawServer.readHead(in)) != null) {
                requestLines.add(head.substring(0, head.indexOf("\r\n")));
                String lower = head.toLowerCase(Locale.ROOT);
                if (lower.contains("\r\ntransfer-encoding:")) {
                    readChunked(in);
                } else {
                    int cl = lower.indexOf("\r\ncontent-length:");
                    if (cl >= 0) {
                        int end = lower.indexOf("\r\n", cl + 2);
                        in.readNBytes(Integer.parseInt(lower.substring(cl + 17, end).trim()));
                    }
                }
                RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        }));
    }

    private static void readChunked(InputStream in) throws IOException {
        while (true) {
            int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
            if (size == 0) {
                while (!line(in).isEmpty()) {
                    // trailers
                }
                return;
            }
            in.readNBytes(size + 2);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1).strip();
    }

    /** Reads answers until the connection ends; an answer the client cannot parse ends the list too. */
    private static List<RawHttp.Response> allAnswers(RawHttp c) {
        List<RawHttp.Response> answers = new ArrayList<>();
        try {
            while (true) {
                answers.add(c.read());
            }
        } catch (IOException | RuntimeException endOfStream) {
            return answers;
        }
    }

    /**
     * Each request carries a second request inside its body as one reading of its framing sees it. Whatever the
     * load balancer makes of it, the upstream must never be asked for the hidden request: it would be answered
     * to whoever sends the next request on that upstream connection.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "Content-Length: 39\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 39",
        "Content-Length: 39\r\nTransfer-Encoding: xchunked",
        "Content-Length: 39\r\nTransfer-Encoding: chunked, identity",
        "Content-Length: 39\r\nTransfer-Encoding : chunked",
        "Content-Length: 39\r\nTransfer-Encoding:\u000bchunked",
        "Content-Length: 39\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity",
        "Content-Length: 39\r\nContent-Length: 5",
        "Content-Length: 39, 5",
    })
    void aRequestHiddenInAnAmbiguousBodyNeverReachesTheUpstream(String framing) throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        RawServer up = recordingUpstream(requests);
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        String hidden = "GET /hidden HTTP/1.1\r\nHost: a\r\nX: ";
        String body = "0\r\n\r\n" + hidden;
        assertThat(body).hasSize(39);
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            c.send("POST /outer HTTP/1.1\r\nHost: a\r\n" + framing + "\r\n\r\n" + body);
            // The client goes on as the next user of a shared connection would.
            c.send("GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            List<RawHttp.Response> answers = allAnswers(c);
            assertThat(answers).as(framing).isNotEmpty();
            if (answers.get(0).status() == 400) {
                assertThat(answers).as("a rejected request ends the connection").hasSize(1);
            }
        }
        assertThat(requests).as(framing).noneMatch(line -> line.contains("/hidden"));
    }

    @Test
    void aRequestWithTwoHostHeadersIsRefused() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of("a.example.com"), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: a.example.com\r\nHost: admin.internal\r\n\r\n")
                    .read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(c.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void hostNamedAsAConnectionOptionStillReachesTheUpstream() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of("a.example.com"), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: a.example.com\r\nConnection: Host, X-Hop\r\n"
                    + "X-Hop: 1\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("host")).isEqualTo("a.example.com");
            assertThat(r.echoed("x-hop")).isNull();
        }
    }

    @Test
    void absoluteFormTargetReplacesTheHostHeader() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI evil = lb.whoami("evil");
        lb.serve(http("a", List.of("a.example.com"), List.of(), a), http("evil", List.of("evil.example"), List.of(),
                evil));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET http://user@a.example.com:8080/x?y=1 HTTP/1.1\r\n"
                    + "Host: evil.example\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("a");
            assertThat(r.echoed("request")).isEqualTo("GET /x?y=1 HTTP/1.1");
            assertThat(r.echoed("host")).isEqualTo("a.example.com:8080");
            assertThat(r.echoed("x-forwarded-host")).isEqualTo("a.example.com:8080");
            // without a Host header at all
            r = c.send("GET http://a.example.com/z HTTP/1.1\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("a");
            assertThat(r.echoed("host")).isEqualTo("a.example.com");
        }
    }

    @Test
    void otherMajorVersionsAre505() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            assertThat(c.send("GET / HTTP/2.0\r\nHost: a\r\n\r\n").read().status()).isEqualTo(505);
            assertThat(c.isClosedByPeer()).isTrue();
        }
        // a later 1.x minor version is answered as 1.1
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            assertThat(c.send("GET / HTTP/1.2\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        }
    }

    @Test
    void connectIsNotServed() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        RawServer up = recordingUpstream(requests);
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("CONNECT 10.0.0.1:22 HTTP/1.1\r\nHost: 10.0.0.1:22\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(501);
            assertThat(c.isClosedByPeer()).isTrue();
        }
        assertThat(requests).isEmpty();
    }

    @Test
    void anHttp10ClientExpectingContinueGetsNoInterimAnswer() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("web", List.of(), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("POST /u HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\n"
                    + "Content-Length: 5\r\n\r\nhello").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("body-bytes")).isEqualTo("5");
        }
    }

    @Test
    void thousandsOfPipelinedRequestsAreAllAnsweredInOrder() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        lb.serve(http("web", List.of(), List.of(), a, b));
        int n = 5000;
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < n; i++) {
            batch.append("GET /").append(i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            // Written from another thread: the answers must be read while the requests are still being sent.
            Thread writer = new Thread(() -> {
                try {
                    c.send(batch.toString());
                } catch (IOException e) {
                    // the reader below fails the test
                }
            });
            writer.start();
            for (int i = 0; i < n; i++) {
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoed("request")).isEqualTo("GET /" + i + " HTTP/1.1");
            }
            writer.join();
        }
    }

    @Test
    void aClientThatNeverReadsHoldsBackTheUpstreamAndIsDroppedAfterTheIdleTime() throws Exception {
        long body = 1L << 30;
        AtomicLong written = new AtomicLong();
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + body + "\r\n\r\n");
            byte[] piece = new byte[64 * 1024];
            for (long left = body; left > 0; left -= piece.length) {
                out.write(piece);
                written.addAndGet(piece.length);
            }
        }));
        WhoAmI other = lb.whoami("other");
        lb.serve(new HttpService("stuck", Balance.ROUND_ROBIN, List.of(), List.of("/stuck"), false, false,
                        List.of(new Upstream("127.0.0.1", up.port())),
                        Timeouts.DEFAULTS.withServer(Duration.ofSeconds(1)), HeaderRules.NONE),
                http("other", List.of(), List.of(), other));
        java.net.Socket socket = new java.net.Socket();
        socket.setReceiveBufferSize(64 * 1024);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", lb.httpPort()));
        try (RawHttp c = new RawHttp(socket)) {
            c.send("GET /stuck HTTP/1.1\r\nHost: a\r\n\r\n");
            // The load balancer stops reading the upstream when the client does not read, and ends the exchange
            // once nothing has moved for the idle time: the upstream's write then fails.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (up.finished() == 0) {
                assertThat(System.nanoTime()).as("the stalled exchange ends").isLessThan(deadline);
                // meanwhile other clients are served
                assertThat(RawHttp.get(lb.httpPort(), "a", "/").instance()).isEqualTo("other");
                Thread.sleep(50);
            }
            assertThat(written.get()).as("bytes the upstream could write: socket buffers, not the body")
                    .isLessThan(body / 16);
            InputStream in = c.in();
            long received = in.transferTo(OutputStream.nullOutputStream());
            assertThat(received).isLessThan(body);
        }
    }
}
