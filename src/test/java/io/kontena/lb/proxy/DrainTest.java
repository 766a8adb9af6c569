package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.at;
import static io.kontena.lb.testing.ProxyFixture.http;
import static io.kontena.lb.testing.ProxyFixture.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.Background;
import io.kontena.lb.testing.H2Client;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import io.kontena.lb.testing.TestCertificates;
import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a configuration change leaves running: the exchanges, tunnels and relays of removed upstreams and the
 * connections of closed listeners go on until they end or the drain timeout passes, and are closed then.
 */
class DrainTest {
    private static final Duration DRAIN = Duration.ofSeconds(2);
    private static final TestCertificates.Issued CERTIFICATE = TestCertificates.cert("www.example.com").build();

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture().drainTimeout(DRAIN);

    /** An upstream that answers /fast when released and never answers anything else. */
    private static final class HeldUpstream {
        final CountDownLatch arrived = new CountDownLatch(2);
        final CountDownLatch release = new CountDownLatch(1);
        final RawServer server;

        HeldUpstream(ProxyFixture lb) throws IOException {
            server = lb.closeAfter(new RawServer((s, in, out) -> {
                String head = RawServer.readHead(in);
                arrived.countDown();
                if (head.startsWith("GET /fast ")) {
                    await(release);
                    RawServer.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast");
                }
                in.read(); // until the load balancer closes the connection
            }));
        }
    }

    @Test
    void aRemovedUpstreamFinishesItsExchangesWithinTheDrainTimeoutAndIsCutAfterIt() throws Exception {
        HeldUpstream held = new HeldUpstream(lb);
        WhoAmI next = lb.whoami("next");
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", held.server.port()))));
        int port = lb.httpPort();
        CompletableFuture<RawHttp.Response> fast = request(port, "/fast");
        CompletableFuture<RawHttp.Response> slow = request(port, "/slow");
        assertThat(held.arrived.await(10, TimeUnit.SECONDS)).isTrue();

        long removed = System.nanoTime();
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(at(next))));
        assertThat(RawHttp.get(port, "x", "/").instance()).as("new requests go to the new upstream").isEqualTo("next");

        held.release.countDown();
        RawHttp.Response r = fast.get(10, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("fast");

        // Cut when the drain timeout passes, long before the upstream's own time limit (a minute).
        assertThat(slow.get(15, TimeUnit.SECONDS).status()).isEqualTo(502);
        assertThat(Duration.ofNanos(System.nanoTime() - removed)).isGreaterThanOrEqualTo(DRAIN);
        await(() -> held.server.finished() == 2);
    }

    @Test
    void tunnelsAndRelaysOfARemovedUpstreamGoOnUntilTheDrainTimeout() throws Exception {
        RawServer oldTunnel = echo();
        RawServer newTunnel = echo();
        RawServer oldTcp = echo();
        RawServer newTcp = echo();
        lb.serve(List.of(http("ws", Balance.ROUND_ROBIN, List.of(at(oldTunnel)))),
                List.of(tcp("db", Balance.ROUND_ROBIN, List.of(at(oldTcp)))));
        int tcpPort = lb.runtime().tcpPort("db");
        try (RawHttp tunnel = new RawHttp(lb.httpPort()); Socket relay = connect(tcpPort)) {
            assertThat(tunnel.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
                    .read().status()).isEqualTo(101);
            assertThat(echoes(relay, "before")).isTrue();

            long removed = System.nanoTime();
            lb.serve(List.of(http("ws", Balance.ROUND_ROBIN, List.of(at(newTunnel)))),
                    List.of(tcp("db", Balance.ROUND_ROBIN, List.of(at(newTcp)))));
            assertThat(lb.runtime().tcpPort("db")).isEqualTo(tcpPort);
            assertThat(tunnel.send("still here\n").readLine()).isEqualTo("still here");
            assertThat(echoes(relay, "still here")).isTrue();

            assertThat(tunnel.isClosedByPeer()).isTrue();
            assertThat(relay.getInputStream().read()).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - removed)).isGreaterThanOrEqualTo(DRAIN);
        }
        assertThat(newTcp.accepted()).isZero();
    }

    @Test
    void aRemovedTcpServiceStopsAcceptingAndItsConnectionsGoOnUntilTheDrainTimeout() throws Exception {
        RawServer up = echo();
        WhoAmI web = lb.whoami("web");
        lb.serve(List.of(http("web", List.of(), List.of(), web)), List.of(tcp("db", Balance.ROUND_ROBIN,
                List.of(at(up)))));
        int tcpPort = lb.runtime().tcpPort("db");
        try (Socket relay = connect(tcpPort)) {
            assertThat(echoes(relay, "before")).isTrue();
            long removed = System.nanoTime();
            lb.serve(http("web", List.of(), List.of(), web));

            assertThat(refused(tcpPort)).isTrue();
            assertThat(echoes(relay, "after")).isTrue();
            assertThat(relay.getInputStream().read()).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - removed)).isGreaterThanOrEqualTo(DRAIN);
        }
        await(() -> lb.runtime().openConnections() == 0);
    }

    @Test
    void keepAliveConnectionsOfAMovedPortCloseAfterTheirNextAnswer() throws Exception {
        WhoAmI web = lb.whoami("web");
        int first = LbProcess.freePort();
        int second = LbProcess.freePort();
        lb.apply(httpOn(first, web));
        try (RawHttp busy = new RawHttp(first); RawHttp idle = new RawHttp(first)) {
            assertThat(idle.send(get()).read().header("connection")).isNull();
            // A request in flight when the listener closes...
            busy.send("GET /?wait=300 HTTP/1.1\r\nHost: x\r\n\r\n");
            await(() -> lb.runtime().openConnections() == 2);
            lb.apply(httpOn(second, web));
            assertThat(refused(first)).isTrue();
            assertThat(RawHttp.get(second, "x", "/").status()).isEqualTo(200);

            // ... is answered, and the answer closes the connection; so is the next answer on an idle one.
            RawHttp.Response r = busy.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(busy.isClosedByPeer()).isTrue();
            r = idle.send(get()).read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(idle.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void http2ConnectionsOfAClosedListenerGetAGoAwayAndFinishTheirStreams() throws Exception {
        HeldUpstream held = new HeldUpstream(lb);
        lb.serveHttps(List.of(CERTIFICATE), http("web", List.of(), List.of("/"), false, false,
                List.of(new Upstream("127.0.0.1", held.server.port()))));
        int port = lb.httpsPort();
        try (H2Client client = new H2Client(port, "www.example.com")) {
            H2Client.Exchange inFlight = client.open("GET", "www.example.com", "/fast", Map.of(), true);
            client.open("GET", "www.example.com", "/slow", Map.of(), true);
            assertThat(held.arrived.await(10, TimeUnit.SECONDS)).isTrue();
            lb.runtime().stopAccepting();
            await(() -> client.goAway() != null);
            assertThat(client.goAway().errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(refused(port)).isTrue();
            held.release.countDown();
            assertThat(inFlight.response().get(10, TimeUnit.SECONDS).text()).isEqualTo("fast");
            await(() -> !client.isOpen()); // the stream that never ends is cut by the drain timeout
        }
    }

    private static LbConfig httpOn(int port, WhoAmI upstream) {
        HttpService web = new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(at(upstream)), Timeouts.DEFAULTS, io.kontena.lb.config.HeaderRules.NONE);
        return new LbConfig(Optional.of(port), List.of(web), List.<TcpService>of(), List.of());
    }

    private static String get() {
        return "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    }

    /** A line-echo upstream: TCP relays and upgraded HTTP connections (it answers the upgrade first). */
    private RawServer echo() throws IOException {
        return lb.closeAfter(new RawServer((s, in, out) -> {
            String first = readLine(in);
            if (first.startsWith("GET ")) {
                while (!readLine(in).isEmpty()) {
                    // upgrade request head
                }
                RawServer.write(out, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
            } else {
                RawServer.write(out, first + "\n");
            }
            in.transferTo(out);
        }));
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    private static boolean echoes(Socket s, String text) throws IOException {
        s.getOutputStream().write((text + "\n").getBytes(StandardCharsets.UTF_8));
        return readLine(s.getInputStream()).equals(text);
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(15_000);
        return s;
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static CompletableFuture<RawHttp.Response> request(int port, String path) {
        return Background.supply(() -> {
            try {
                return RawHttp.get(port, "x", path);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static void await(CountDownLatch latch) throws IOException {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IOException("not released");
            }
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met within 10 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
