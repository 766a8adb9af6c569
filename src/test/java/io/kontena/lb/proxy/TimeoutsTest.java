package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.Background;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every time limit, over real sockets: the defaults of the original where they are short enough to wait for. */
class TimeoutsTest {
    private static final Duration SHORT = Duration.ofMillis(500);

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    /**
     * An address that accepts no connection and refuses none: a listening socket whose accept queue is full, so
     * the kernel drops further connection attempts and a connect hangs until its time limit.
     */
    private ServerSocket unreachable() throws IOException {
        ServerSocket server = lb.closeAfter(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
        for (int i = 0; i < 2; i++) {
            lb.closeAfter(new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort()));
        }
        return server;
    }

    private static Upstream at(ServerSocket s) {
        return new Upstream("127.0.0.1", s.getLocalPort());
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    @Test
    void theDefaultsAreTheOriginals() {
        assertThat(Timeouts.DEFAULTS).isEqualTo(new Timeouts(Duration.ofSeconds(5), Duration.ofMinutes(1),
                Duration.ofMinutes(1), Duration.ofHours(1)));
    }

    /**
     * The two limits of a client connection, at their defaults: a request head must be complete within 5 s of
     * the connection (a client trickling header lines gets 408), and an idle keep-alive connection ends 10 s
     * after its last answer. Both are waited for together.
     */
    @Test
    void requestHeadsTakeAtMostFiveSecondsAndIdleKeepAliveTenSeconds() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(ProxyFixture.http("web", List.of(), List.of(), a));

        long trickleStart = System.nanoTime();
        RawHttp trickle = lb.closeAfter(new RawHttp(lb.httpPort()));
        trickle.send("GET / HTTP/1.1\r\nHost: a\r\n");
        CompletableFuture<RawHttp.Response> trickled = Background.supply(() -> {
            try {
                return trickle.read();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });

        RawHttp idle = lb.closeAfter(new RawHttp(lb.httpPort()));
        assertThat(idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        long idleStart = System.nanoTime();
        CompletableFuture<Boolean> idleClosed = Background.supply(() -> {
            try {
                return idle.isClosedByPeer();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });

        for (int i = 0; !trickled.isDone(); i++) {
            try {
                trickle.send("X-Line-" + i + ": still coming\r\n");
            } catch (IOException closed) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(trickled.get(10, TimeUnit.SECONDS).status()).isEqualTo(408);
        assertThat(millisSince(trickleStart)).isBetween(5_000L, 9_000L);
        assertThat(trickle.isClosedByPeer()).isTrue();

        assertThat(idleClosed.get(15, TimeUnit.SECONDS)).isTrue();
        assertThat(millisSince(idleStart)).isBetween(9_500L, 14_000L);
    }

    @Test
    void anHttpUpstreamThatDoesNotAcceptIsGivenUpAfterTheConnectTimeAndAnotherTried() throws Exception {
        ServerSocket dead = unreachable();
        WhoAmI good = lb.whoami("good");
        Timeouts connectFast = Timeouts.DEFAULTS.withConnect(SHORT);
        lb.serve(new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(at(dead), ProxyFixture.at(good)), connectFast, HeaderRules.NONE));
        for (int i = 0; i < 4; i++) {
            assertThat(RawHttp.get(lb.httpPort(), "a", "/").instance()).isEqualTo("good");
        }

        // alone, it answers nobody: 503 once the connect time has passed
        lb.serve(new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(at(dead)), connectFast, HeaderRules.NONE));
        long start = System.nanoTime();
        assertThat(RawHttp.get(lb.httpPort(), "a", "/").status()).isEqualTo(503);
        assertThat(millisSince(start)).isGreaterThanOrEqualTo(SHORT.toMillis());
    }

    @Test
    void aTcpUpstreamThatDoesNotAcceptIsGivenUpAfterTheConnectTimeAndAnotherTried() throws Exception {
        ServerSocket dead = unreachable();
        RawServer good = lb.closeAfter(new RawServer((s, in, out) -> {
            out.write("good\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            in.transferTo(out);
        }));
        lb.serve(List.of(), List.of(new TcpService("db", Balance.ROUND_ROBIN, 0,
                List.of(at(dead), new Upstream("127.0.0.1", good.port())), Timeouts.DEFAULTS.withConnect(SHORT))));
        for (int i = 0; i < 4; i++) {
            try (Socket s = new Socket("127.0.0.1", lb.runtime().tcpPort("db"))) {
                s.setSoTimeout(10_000);
                assertThat(new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
                        .isEqualTo("good\n");
            }
        }
    }

    @Test
    void anIdleTcpConnectionEndsAfterTheTunnelTime() throws Exception {
        RawServer echo = lb.closeAfter(new RawServer((s, in, out) -> in.transferTo(out)));
        lb.serve(List.of(), List.of(new TcpService("db", Balance.ROUND_ROBIN, 0,
                List.of(new Upstream("127.0.0.1", echo.port())), Timeouts.DEFAULTS.withTunnel(SHORT))));
        try (Socket s = new Socket("127.0.0.1", lb.runtime().tcpPort("db"))) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            // traffic keeps it open well past the tunnel time
            for (int i = 0; i < 8; i++) {
                Thread.sleep(SHORT.toMillis() / 4);
                s.getOutputStream().write('x');
                assertThat(in.read()).isEqualTo('x');
            }
            long start = System.nanoTime();
            assertThat(in.read()).isEqualTo(-1);
            assertThat(millisSince(start)).isGreaterThanOrEqualTo(SHORT.toMillis() - 50);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (echo.finished() == 0) {
            assertThat(System.nanoTime()).as("the upstream side is closed too").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void anIdleWebSocketEndsAfterTheTunnelTime() throws Exception {
        WhoAmI ws = lb.whoami("ws");
        lb.serve(new HttpService("ws", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(ProxyFixture.at(ws)), Timeouts.DEFAULTS.withTunnel(SHORT), HeaderRules.NONE));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").read(true);
            assertThat(r.status()).isEqualTo(101);
            long start = System.nanoTime();
            assertThat(c.isClosedByPeer()).isTrue();
            assertThat(millisSince(start)).isGreaterThanOrEqualTo(SHORT.toMillis() - 50);
        }
    }
}
