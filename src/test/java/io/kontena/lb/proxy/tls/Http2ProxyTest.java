package io.kontena.lb.proxy.tls;

import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.LogCapture;
import io.kontena.lb.testing.H2Client;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import io.kontena.lb.testing.TestCertificates;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HTTP/2 clients (ALPN {@code h2} on the HTTPS listener) balanced to HTTP/1.1 upstreams: the same routing, headers,
 * streaming and backpressure as HTTP/1.1 clients, many streams on one connection.
 */
class Http2ProxyTest {
    private static final TestCertificates.Issued CERTIFICATE =
            TestCertificates.cert("www.example.com").sans("www.example.com", "*.example.com").build();

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @Test
    void routesByHostAndPathWithTheHeadersOfHttp1AndAnswers503WithoutARoute() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        WhoAmI api = lb.whoami("api-1");
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of("www.example.com"), List.of(), web),
                http("api", List.of("api.example.com"), List.of("/v1"), api));
        int port = lb.httpsPort();

        try (H2Client client = new H2Client(port, "www.example.com")) {
            H2Client.Response r = client.get("www.example.com", "/x?y=1");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.instance()).isEqualTo("web-1");
            assertThat(r.echoed("request")).isEqualTo("GET /x?y=1 HTTP/1.1");
            assertThat(r.echoed("host")).isEqualTo("www.example.com");
            assertThat(r.echoed("x-forwarded-proto")).isEqualTo("https");
            assertThat(r.echoed("x-forwarded-port")).isEqualTo(Integer.toString(port));
            assertThat(r.echoed("x-forwarded-for")).isEqualTo("127.0.0.1");
            assertThat(r.echoed("x-forwarded-host")).isEqualTo("www.example.com");
            // nothing of HTTP/2's own reaches the upstream
            assertThat(r.text()).doesNotContain("x-http2-").doesNotContain("connection:");

            // another host on the same connection, with a path prefix that is stripped
            H2Client.Response v1 = client.get("api.example.com", "/v1/users");
            assertThat(v1.instance()).isEqualTo("api-1");
            assertThat(v1.echoed("request")).isEqualTo("GET /users HTTP/1.1");

            H2Client.Response none = client.get("nothing.example.com", "/");
            assertThat(none.status()).isEqualTo(503);
            assertThat(none.text()).contains("No service is configured for this host and path.");
            H2Client.Response noPath = client.get("api.example.com", "/v2");
            assertThat(noPath.status()).isEqualTo(503);

            // the connection served them all
            assertThat(client.isOpen()).isTrue();
            assertThat(lb.runtime().openConnections()).isEqualTo(1);
        }
    }

    @Test
    void advertisesStreamAndHeaderLimits() throws Exception {
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of(), lb.whoami("web-1")));
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            assertThat(client.get("www.example.com", "/").status()).isEqualTo(200);
            assertThat(client.serverSettings().maxConcurrentStreams()).isEqualTo(100L);
            // the HTTP/1.x limits of request line and headers together
            assertThat(client.serverSettings().maxHeaderListSize()).isEqualTo(8192L + 16384L);
        }
    }

    @Test
    void serves20ConcurrentStreamsOfOneConnectionAtOnce() throws Exception {
        int streams = 20;
        CountDownLatch allArrived = new CountDownLatch(streams);
        // Answers only once every request is open at the same time: streams served one after another never are.
        RawServer upstream = lb.closeAfter(new RawServer((socket, in, out) -> {
            String head = RawServer.readHead(in);
            allArrived.countDown();
            try {
                if (!allArrived.await(10, TimeUnit.SECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
            String path = head.split(" ")[1];
            RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\nConnection: close\r\n\r\n"
                    + path);
        }));
        lb.serveHttps(List.of(CERTIFICATE), http("slow", List.of(), List.of("/"), false, false, List.of(
                new io.kontena.lb.config.Upstream("127.0.0.1", upstream.port()))));

        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            List<H2Client.Exchange> open = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                open.add(client.open("GET", "www.example.com", "/s" + i, Map.of(), true));
            }
            for (int i = 0; i < streams; i++) {
                H2Client.Response r = open.get(i).response().get(15, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("/s" + i);
            }
            assertThat(lb.runtime().openConnections()).isEqualTo(1);
        }
    }

    @Test
    void streamsRequestAndResponseBodiesAsTheyCome() throws Exception {
        // The upstream answers the first piece of the request before the client has sent the second.
        RawServer upstream = lb.closeAfter(new RawServer((socket, in, out) -> {
            String head = RawServer.readHead(in);
            if (!head.toLowerCase().contains("transfer-encoding: chunked")) {
                RawServer.write(out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            String first = readChunk(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("got " + first + "\n"));
            String second = readChunk(in);
            String end = readChunk(in);
            RawServer.write(out, chunk("got " + second + "\n") + chunk("end " + end.isEmpty() + "\n") + "0\r\n\r\n");
        }));
        lb.serveHttps(List.of(CERTIFICATE), http("echo", List.of(), List.of("/"), false, false, List.of(
                new io.kontena.lb.config.Upstream("127.0.0.1", upstream.port()))));

        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            H2Client.Exchange e = client.open("POST", "www.example.com", "/talk", Map.of(), false);
            e.send("hello", false);
            assertThat(e.head().get(10, TimeUnit.SECONDS).status().toString()).isEqualTo("200");
            awaitTrue(() -> e.bodySoFar().equals("got hello\n"), "the first answer before the request ends");
            e.send("world", true);
            H2Client.Response r = e.response().get(10, TimeUnit.SECONDS);
            assertThat(r.text()).isEqualTo("got hello\ngot world\nend true\n");
        }
    }

    @Test
    void largeBodiesArriveWholeBothWays() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of(), web));
        byte[] piece = new byte[16 * 1024];
        new Random(7).nextBytes(piece);
        int pieces = 512; // 8 MiB, many times any flow-control window
        CRC32 crc = new CRC32();
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            H2Client.Exchange upload = client.open("PUT", "www.example.com", "/upload", Map.of(), false);
            for (int i = 0; i < pieces; i++) {
                upload.send(piece, i == pieces - 1);
                crc.update(piece);
            }
            H2Client.Response up = upload.response().get(30, TimeUnit.SECONDS);
            assertThat(up.status()).isEqualTo(200);
            assertThat(up.echoed("body-bytes")).isEqualTo(Long.toString((long) pieces * piece.length));
            assertThat(up.echoed("body-crc32")).isEqualTo(Long.toHexString(crc.getValue()));
            assertThat(up.echoed("transfer-encoding")).isEqualTo("chunked");

            // with a length: forwarded with it
            byte[] small = "0123456789".getBytes(StandardCharsets.US_ASCII);
            H2Client.Exchange sized = client.open("POST", "www.example.com", "/sized",
                    Map.of("content-length", "10"), false);
            H2Client.Response s = sized.send(small, true).response().get(10, TimeUnit.SECONDS);
            assertThat(s.echoed("content-length")).isEqualTo("10");
            assertThat(s.echoed("body-bytes")).isEqualTo("10");

            H2Client.Response down = client.get("www.example.com", "/download?size=8388608");
            assertThat(down.status()).isEqualTo(200);
            assertThat(down.length()).isEqualTo(8388608L);
        }
    }

    @Test
    void aClientThatStopsReadingStopsTheUpstream() throws Exception {
        long size = 64L << 20;
        AtomicLong written = new AtomicLong();
        RawServer upstream = lb.closeAfter(new RawServer((socket, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n");
            byte[] piece = new byte[64 * 1024];
            for (long left = size; left > 0; left -= piece.length) {
                out.write(piece);
                written.addAndGet(piece.length);
            }
            out.flush();
            RawServer.readHead(in); // keep the connection until the proxy closes it
        }));
        lb.serveHttps(List.of(CERTIFICATE), http("big", List.of(), List.of("/"), false, false, List.of(
                new io.kontena.lb.config.Upstream("127.0.0.1", upstream.port()))));

        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            H2Client.Exchange e = client.openPaused("GET", "www.example.com", "/big");
            assertThat(e.head().get(10, TimeUnit.SECONDS).status().toString()).isEqualTo("200");
            // The client grants no window beyond the first 64 KB, so the proxy must stop reading the upstream:
            // what the upstream writes stops growing, far short of the body (socket buffers hold some MB).
            long stalled = awaitStable(written::get, Duration.ofMillis(500), Duration.ofSeconds(20));
            assertThat(stalled).isLessThan(size / 2);

            e.resume();
            H2Client.Response r = e.response().get(60, TimeUnit.SECONDS);
            assertThat(r.length()).isEqualTo(size);
        }
    }

    @Test
    void expectContinueGetsAnInterimAnswerWithoutEndingTheStream() throws Exception {
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of(), lb.whoami("web-1")));
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            H2Client.Exchange e = client.open("POST", "www.example.com", "/", Map.of("expect", "100-continue"), false);
            awaitTrue(() -> !e.interim().isEmpty(), "a 100 Continue");
            assertThat(e.interim().get(0).status().toString()).isEqualTo("100");
            H2Client.Response r = e.send("body", true).response().get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("body-bytes")).isEqualTo("4");
        }
    }

    @Test
    void withHttp2OffAlpnChoosesHttp11() throws Exception {
        lb.serveHttps(new TlsSettings(List.of(), Optional.empty(), false), List.of(CERTIFICATE),
                List.of(http("web", List.of(), List.of(), lb.whoami("web-1"))), List.of());
        int port = lb.httpsPort();
        assertThatThrownBy(() -> new H2Client(port, "www.example.com")).hasMessageContaining("not h2");
        try (TlsTestClient.Connection c = new TlsTestClient().connect(port, "www.example.com",
                List.of("h2", "http/1.1"), List.of(), List.of())) {
            assertThat(c.socket.getApplicationProtocol()).isEqualTo("http/1.1");
            RawHttp.Response r = new RawHttp(c.socket)
                    .send("GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("web-1");
        }
    }

    @Test
    void aClosingLoadBalancerSendsGoAwayAndFinishesOpenStreams() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        RawServer upstream = lb.closeAfter(new RawServer((socket, in, out) -> {
            RawServer.readHead(in);
            arrived.countDown();
            try {
                answer.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
        }));
        lb.serveHttps(List.of(CERTIFICATE), http("slow", List.of(), List.of("/"), false, false, List.of(
                new io.kontena.lb.config.Upstream("127.0.0.1", upstream.port()))));
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            H2Client.Exchange inFlight = client.open("GET", "www.example.com", "/", Map.of(), true);
            assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
            Thread closer = new Thread(lb.runtime()::drainAndClose);
            closer.start();
            awaitTrue(() -> client.goAway() != null, "a GOAWAY");
            assertThat(client.goAway().errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
            // the stream that was open before the GOAWAY still gets its answer
            answer.countDown();
            H2Client.Response r = inFlight.response().get(10, TimeUnit.SECONDS);
            assertThat(r.text()).isEqualTo("done");
            closer.join(10_000);
            assertThat(closer.isAlive()).isFalse();
        }
    }

    @Test
    void aStreamTheClientCancelsClosesItsUpstreamConnectionAndTheOthersGoOn() throws Exception {
        RawServer upstream = lb.closeAfter(new RawServer((socket, in, out) -> {
            String head = RawServer.readHead(in);
            if (head.startsWith("GET /small ")) {
                RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsmall");
                return;
            }
            RawServer.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            while (true) { // until the proxy closes the connection
                RawServer.write(out, chunk("more\n"));
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }));
        lb.serveHttps(List.of(CERTIFICATE), http("stream", List.of(), List.of("/"), false, false, List.of(
                new io.kontena.lb.config.Upstream("127.0.0.1", upstream.port()))));
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            H2Client.Exchange endless = client.open("GET", "www.example.com", "/endless", Map.of(), true);
            awaitTrue(() -> endless.received() > 0, "the body flowing");
            endless.cancel();
            awaitTrue(() -> upstream.finished() == 1, "the upstream connection closed");
            assertThat(client.get("www.example.com", "/small").text()).isEqualTo("small");
        }
    }

    @Test
    void aStreamGets504WhenItsUpstreamIsTooSlowAnd408WhenItsBodyStalls() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        lb.serveHttps(List.of(CERTIFICATE), new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"),
                false, false, List.of(ProxyFixture.at(web)),
                Timeouts.DEFAULTS.withServer(Duration.ofMillis(300)).withClient(Duration.ofMillis(300)),
                HeaderRules.NONE));
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            assertThat(client.get("www.example.com", "/?wait=3000").status()).isEqualTo(504);
            H2Client.Exchange stalled = client.open("POST", "www.example.com", "/", Map.of(), false);
            stalled.send("a first piece and no more", false);
            assertThat(stalled.head().get(10, TimeUnit.SECONDS).status().toString()).isEqualTo("408");
            // the connection serves on
            assertThat(client.get("www.example.com", "/").status()).isEqualTo(200);
        }
    }

    // ---- requests whose body stops coming ---------------------------------------------------------------

    /**
     * An upstream that reads a request head, then its body until the proxy closes the connection: counts what came
     * so far in {@code received}, and reports the total in {@code ended} when the connection ends.
     */
    private RawServer bodyReader(AtomicLong received, BlockingQueue<Long> ended) throws IOException {
        return lb.closeAfter(new RawServer((socket, in, out) -> {
            String head = RawServer.readHead(in);
            if (head.startsWith("GET ")) {
                RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                return;
            }
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) != -1; ) {
                received.addAndGet(n);
            }
            ended.add(received.get());
        }));
    }

    /** Opens a POST of 100,000 bytes and sends the first 1,000, which the upstream has once this returns. */
    private static H2Client.Exchange postHalfABody(H2Client client, AtomicLong received) throws Exception {
        received.set(0);
        H2Client.Exchange e = client.open("POST", "www.example.com", "/upload", Map.of("content-length", "100000"),
                false);
        e.send(new byte[1000], false);
        awaitTrue(() -> received.get() == 1000, "the first part of the body at the upstream");
        return e;
    }

    private static void assertAbandoned(LogCapture accessLog) throws Exception {
        awaitTrue(() -> !accessLog.lines().isEmpty(), "an access log line"); // written when the stream closes
        assertThat(accessLog.lines()).singleElement().asString()
                .contains("\"POST /upload HTTP/2.0\" up ").contains(" 499 ");
    }

    @Test
    void aStreamWhoseClientEndsTheConnectionMidBodyIsAbortedAtOnce() throws Exception {
        AtomicLong received = new AtomicLong();
        BlockingQueue<Long> ended = new LinkedBlockingQueue<>();
        RawServer upstream = bodyReader(received, ended);
        lb.accessLog().serveHttps(List.of(CERTIFICATE), http("up", List.of(), List.of("/"), false, false, List.of(
                new io.kontena.lb.config.Upstream("127.0.0.1", upstream.port()))));
        for (boolean reset : new boolean[] {false, true}) {
            try (LogCapture log = LogCapture.accessLog();
                 H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
                H2Client.Exchange e = postHalfABody(client, received);
                if (reset) {
                    client.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                    client.channel().close().sync(); // a TCP reset
                } else {
                    // A TCP FIN: the rest of the body can never come. Without the abort, the stream would wait for
                    // it until the client timeout (a minute), its upstream connection open with half a request.
                    ((DuplexChannel) client.channel()).shutdownOutput().sync();
                }
                assertThat(ended.poll(2, TimeUnit.SECONDS)).as("the upstream connection closed (reset %s)", reset)
                        .isEqualTo(1000L);
                if (!reset) {
                    assertThatThrownBy(() -> e.response().get(2, TimeUnit.SECONDS)).as("the stream ended unanswered")
                            .isInstanceOf(ExecutionException.class);
                    assertThat(client.channel().closeFuture().await(2, TimeUnit.SECONDS)).as("closed").isTrue();
                }
                assertAbandoned(log);
            }
        }
        awaitTrue(() -> lb.runtime().openConnections() == 0, "no connection left");
    }

    @Test
    void aStreamResetMidBodyClosesItsUpstreamConnectionAndTheConnectionGoesOn() throws Exception {
        AtomicLong received = new AtomicLong();
        BlockingQueue<Long> ended = new LinkedBlockingQueue<>();
        RawServer upstream = bodyReader(received, ended);
        lb.accessLog().serveHttps(List.of(CERTIFICATE), http("up", List.of(), List.of("/"), false, false, List.of(
                new io.kontena.lb.config.Upstream("127.0.0.1", upstream.port()))));
        try (LogCapture log = LogCapture.accessLog();
             H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            postHalfABody(client, received).cancel();
            assertThat(ended.poll(2, TimeUnit.SECONDS)).as("the upstream connection closed").isEqualTo(1000L);
            assertAbandoned(log);
            assertThat(client.get("www.example.com", "/after").text()).isEqualTo("ok");
            assertThat(upstream.accepted()).isEqualTo(2); // the half-sent request's connection was not reused
        }
    }

    @Test
    void aClientsGoAwayLetsItsStreamsInProgressFinish() throws Exception {
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of(), lb.whoami("web-1")));
        try (H2Client client = new H2Client(lb.httpsPort(), "www.example.com")) {
            H2Client.Exchange e = client.open("POST", "www.example.com", "/", Map.of("content-length", "2000"),
                    false);
            e.send(new byte[1000], false);
            // The client opens no more streams, and still sends the rest of the one it has open (RFC 9113, 6.8).
            client.channel().writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)).sync();
            e.send(new byte[1000], true);
            H2Client.Response r = e.response().get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("body-bytes")).isEqualTo("2000");
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private static String chunk(String text) {
        return Integer.toHexString(text.length()) + "\r\n" + text + "\r\n";
    }

    /** Reads one chunk of a chunked body; "" for the last one (its trailer section read as well). */
    private static String readChunk(InputStream in) throws IOException {
        int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
        if (size == 0) {
            while (!line(in).isEmpty()) {
                // trailers
            }
            return "";
        }
        String data = new String(in.readNBytes(size), StandardCharsets.ISO_8859_1);
        line(in);
        return data;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            b.append((char) c);
        }
        if (c == -1) {
            throw new IOException("end of stream inside a chunked body");
        }
        return b.toString().strip();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    /** Polls until the value has not changed for {@code quiet}, and returns it. */
    private static long awaitStable(java.util.function.LongSupplier value, Duration quiet, Duration limit)
            throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        long last = value.getAsLong();
        long since = System.nanoTime();
        while (System.nanoTime() - since < quiet.toNanos()) {
            assertThat(System.nanoTime()).as("the value settles").isLessThan(deadline);
            Thread.sleep(20);
            long now = value.getAsLong();
            if (now != last) {
                last = now;
                since = System.nanoTime();
            }
        }
        return last;
    }
}
