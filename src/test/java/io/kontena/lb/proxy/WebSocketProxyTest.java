package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** WebSocket (an HTTP upgrade) tunnelled to the upstream. */
class WebSocketProxyTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @Test
    void echoesMessagesThroughTheLoadBalancer() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("ws", List.of(), List.of("/chat"), a));
        LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        WebSocket ws = client.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + lb.httpPort() + "/chat/room"), new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            messages.add(partial.toString());
                            partial.setLength(0);
                        }
                        webSocket.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                        closed.complete(statusCode);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);

        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        assertThat(messages.poll(10, TimeUnit.SECONDS)).isEqualTo("a: hello");
        String big = "x".repeat(200_000);
        ws.sendText(big, true).get(5, TimeUnit.SECONDS);
        String echoed = messages.poll(10, TimeUnit.SECONDS);
        assertThat(echoed).as("echo of a 200 KB message").isNotNull();
        assertThat(echoed.length()).isEqualTo(big.length() + 3);
        assertThat(echoed.equals("a: " + big)).as("echo of a 200 KB message is intact").isTrue();
        for (int i = 0; i < 20; i++) {
            ws.sendText("m" + i, true);
        }
        for (int i = 0; i < 20; i++) {
            assertThat(messages.poll(10, TimeUnit.SECONDS)).isEqualTo("a: m" + i);
        }
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        assertThat(closed.get(10, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    }

    @Test
    void upgradeRequestReachesTheUpstreamWithItsUpgradeHeaders() throws Exception {
        WhoAmI a = lb.whoami("a");
        lb.serve(http("ws", List.of(), List.of(), a));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(101);
            assertThat(r.header("upgrade")).isEqualToIgnoringCase("websocket");
            assertThat(r.header("connection")).containsIgnoringCase("upgrade");
            assertThat(r.header("sec-websocket-accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        }
    }

    @Test
    void bytesTheUpstreamSendsRightAfterSwitchingProtocolsAreRelayed() throws Exception {
        try (io.kontena.lb.testing.RawServer up = new io.kontena.lb.testing.RawServer((s, in, out) -> {
            io.kontena.lb.testing.RawServer.readHead(in);
            // the answer and the first bytes of the new protocol in one write
            io.kontena.lb.testing.RawServer.write(out,
                    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: custom\r\n\r\nhello\n");
            in.transferTo(out);
        })) {
            lb.serve(io.kontena.lb.testing.ProxyFixture.http("t", io.kontena.lb.config.Balance.ROUND_ROBIN,
                    List.of(new io.kontena.lb.config.Upstream("127.0.0.1", up.port()))));
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: custom\r\n\r\n")
                        .read();
                assertThat(r.status()).isEqualTo(101);
                assertThat(c.readLine()).isEqualTo("hello");
                c.send("echo me\n");
                assertThat(c.readLine()).isEqualTo("echo me");
            }
        }
    }
}
