package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.testing.H2Client;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TrustAll;
import io.netty.channel.socket.DuplexChannel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Clients that end their side of the connection (shutdown(SHUT_WR), as {@code nc -N} does) after a request: they
 * are answered what they sent in full, as by HAProxy, and the connection closes after the answer.
 */
class HttpHalfCloseTest {
    private static final int BIG = 16 * 1024 * 1024;

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(16 * 1024); // with slow reads, the proxy keeps finding the client's buffers full
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Reads a body of {@code size} bytes slowly; returns how many came before the end of the stream, at most size. */
    private static long readSlowly(InputStream in, long size) throws Exception {
        byte[] buf = new byte[64 * 1024];
        long received = 0;
        int reads = 0;
        while (received < size) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, size - received));
            if (n == -1) {
                break;
            }
            received += n;
            if (++reads % 16 == 0) {
                Thread.sleep(5);
            }
        }
        return received;
    }

    /** The stream ends within {@code millis} (a reset counts as an end). */
    private static void assertEndsWithin(InputStream in, long millis) throws IOException {
        long start = System.nanoTime();
        int b;
        try {
            b = in.read();
        } catch (java.net.SocketException e) {
            b = -1;
        }
        assertThat(b).as("end of stream").isEqualTo(-1);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(millis);
    }

    @Test
    void aClientThatEndsItsSideGetsTheWholeLargeAnswerThenTheEnd() throws Exception {
        lb.serve(http("web", List.of(), List.of(), lb.whoami("web-1")));
        // Ended at once, the end usually arrives before the upstream has answered; after a pause, mid-answer.
        for (int pause : new int[] {0, 200}) {
            try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
                c.send("GET /?size=" + BIG + " HTTP/1.1\r\nHost: x\r\n\r\n");
                Thread.sleep(pause);
                s.shutdownOutput();
                assertThat(c.readLine()).as("after %d ms", pause).isEqualTo("HTTP/1.1 200 OK");
                long length = -1;
                for (String h = c.readLine(); h != null && !h.isEmpty(); h = c.readLine()) {
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Long.parseLong(h.substring(15).trim());
                    }
                }
                assertThat(length).isEqualTo(BIG);
                assertThat(readSlowly(c.in(), BIG)).as("after %d ms", pause).isEqualTo(BIG);
                assertEndsWithin(c.in(), 5_000);
            }
        }
    }

    @Test
    void theAnswerToAClientThatEndedItsSideSaysConnectionClose() throws Exception {
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            sleep(300); // the client's end reaches the proxy before the answer does
            RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
            in.read(); // keeps the connection until the proxy closes or reuses it
        }));
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            s.shutdownOutput();
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("hello");
            assertThat(r.header("connection")).isEqualTo("close");
            assertEndsWithin(c.in(), 5_000);
        }
    }

    @Test
    void requestsPipelinedBeforeTheEndAreAllAnsweredAndOnlyTheLastSaysClose() throws Exception {
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            String head;
            while ((head = RawServer.readHead(in)) != null) {
                sleep(100);
                String path = head.substring(4, head.indexOf(' ', 4));
                RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\n\r\n" + path);
            }
        }));
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
            c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
            s.shutdownOutput();
            for (String path : List.of("/a", "/b", "/c")) {
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo(path);
                assertThat(r.header("connection")).as(path).isEqualTo(path.equals("/c") ? "close" : null);
            }
            assertEndsWithin(c.in(), 5_000);
        }
    }

    @Test
    void aRequestWhoseBodyCanNoLongerArriveIsAbandoned() throws Exception {
        BlockingQueue<Integer> upstreamGot = new ArrayBlockingQueue<>(4);
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            upstreamGot.add(in.readAllBytes().length); // until the proxy closes the connection
        }));
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        for (int pause : new int[] {0, 200}) {
            try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
                c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").send(new byte[1000]);
                Thread.sleep(pause);
                s.shutdownOutput();
                assertEndsWithin(c.in(), 5_000); // no answer: the request never completed
                Integer got = upstreamGot.poll(5, TimeUnit.SECONDS);
                assertThat(got).as("the upstream connection closed, after %d ms", pause).isNotNull();
                assertThat(got).isLessThanOrEqualTo(1000);
            }
        }
    }

    @Test
    void aConnectionWhoseClientEndsItsSideBetweenRequestsIsClosed() throws Exception {
        lb.serve(http("web", List.of(), List.of(), lb.whoami("web-1")));
        try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isNull(); // kept alive
            s.shutdownOutput();
            assertEndsWithin(c.in(), 2_000); // not at the keep-alive timeout (10 s)
        }
        try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
            s.shutdownOutput(); // before any request
            assertEndsWithin(c.in(), 2_000); // not at the request timeout (5 s)
        }
    }

    // ---- TLS -----------------------------------------------------------------------------------------

    private static final TestCertificates.Issued CERTIFICATE = TestCertificates.cert("www.example.com").build();

    /** TLS over a plain socket, so the test can end the TCP stream without a close_notify. */
    private static SSLSocket tls(Socket plain) throws Exception {
        SSLSocket s = (SSLSocket) TrustAll.context().getSocketFactory().createSocket(plain, "www.example.com",
                plain.getPort(), true);
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    @Test
    void overTlsAClientWhoseTcpStreamEndsAfterARequestGetsTheWholeAnswer() throws Exception {
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of(), lb.whoami("web-1")));
        int size = 4 * 1024 * 1024;
        try (Socket plain = connect(lb.httpsPort()); SSLSocket s = tls(plain); RawHttp c = new RawHttp(s)) {
            c.send("GET /?size=" + size + " HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
            plain.shutdownOutput(); // a TCP FIN, no close_notify
            assertThat(c.readLine()).isEqualTo("HTTP/1.1 200 OK");
            for (String h = c.readLine(); h != null && !h.isEmpty(); h = c.readLine()) {
                // headers
            }
            assertThat(readSlowly(c.in(), size)).isEqualTo(size);
            assertEndsWithin(c.in(), 5_000);
        }
    }

    @Test
    void overTlsARequestCutShortByTheEndOfTheTcpStreamIsAbandoned() throws Exception {
        BlockingQueue<Integer> upstreamGot = new ArrayBlockingQueue<>(4);
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            upstreamGot.add(in.readAllBytes().length);
        }));
        lb.serveHttps(List.of(CERTIFICATE), http("web", Balance.ROUND_ROBIN,
                List.of(new Upstream("127.0.0.1", up.port()))));
        try (Socket plain = connect(lb.httpsPort()); SSLSocket s = tls(plain); RawHttp c = new RawHttp(s)) {
            c.send("POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 100000\r\n\r\n").send(new byte[1000]);
            Thread.sleep(100);
            plain.shutdownOutput();
            assertEndsWithin(c.in(), 5_000);
            assertThat(upstreamGot.poll(5, TimeUnit.SECONDS)).isNotNull().isLessThanOrEqualTo(1000);
        }
    }

    @Test
    void aClientThatEndsItsSideDuringTheTlsHandshakeIsClosedAtOnce() throws Exception {
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of(), lb.whoami("web-1")));
        try (Socket s = connect(lb.httpsPort())) {
            s.shutdownOutput();
            assertEndsWithin(s.getInputStream(), 2_000); // not at the handshake timeout
        }
    }

    @Test
    void anHttp2ClientThatEndsItsSideGetsItsStreamAnsweredAGoAwayAndTheEnd() throws Exception {
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of(), lb.whoami("web-1")));
        try (H2Client c = new H2Client(lb.httpsPort(), "www.example.com")) {
            // Small enough for the stream's first window: the client can send no WINDOW_UPDATE any more.
            H2Client.Exchange e = c.open("GET", "www.example.com", "/?size=30000", Map.of(), true);
            ((DuplexChannel) c.channel()).shutdownOutput().sync();
            H2Client.Response r = e.response().get(5, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.length()).isEqualTo(30000);
            assertThat(c.channel().closeFuture().await(2, TimeUnit.SECONDS)).as("closed").isTrue();
            assertThat(c.goAway()).isNotNull();
        }
    }

    // ---- upgraded connections ---------------------------------------------------------------------------

    @Test
    void inATunnelTheClientsEndIsPassedOnAndTheUpstreamCanStillAnswer() throws Exception {
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: custom\r\n\r\n");
            String got = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // until the client's end
            RawServer.write(out, "got " + got);
        }));
        lb.serve(http("t", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: custom\r\n\r\n")
                    .read(true);
            assertThat(r.status()).isEqualTo(101);
            c.send("data\n");
            s.shutdownOutput();
            assertThat(new String(c.in().readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("got data\n");
        }
    }

    @Test
    void inATunnelTheUpstreamsEndIsPassedOnAndTheClientCanStillSend() throws Exception {
        BlockingQueue<String> upstreamGot = new ArrayBlockingQueue<>(1);
        CountDownLatch upgraded = new CountDownLatch(1);
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            RawServer.readHead(in);
            RawServer.write(out, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: custom\r\n\r\n"
                    + "bye\n");
            s.shutdownOutput();
            upgraded.countDown();
            upstreamGot.add(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
        }));
        lb.serve(http("t", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", up.port()))));
        try (Socket s = connect(lb.httpPort()); RawHttp c = new RawHttp(s)) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: custom\r\n\r\n")
                    .read(true);
            assertThat(r.status()).isEqualTo(101);
            assertThat(c.readLine()).isEqualTo("bye");
            assertThat(c.in().read()).as("the upstream's end").isEqualTo(-1);
            c.send("still here\n");
            s.shutdownOutput();
            assertThat(upstreamGot.poll(5, TimeUnit.SECONDS)).isEqualTo("still here\n");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
