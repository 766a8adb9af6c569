package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.testing.Background;
import io.kontena.lb.testing.Chat;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import io.netty.channel.EventLoopGroup;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GracefulStopTest {
    @TempDir
    Path dir;

    @Test
    void sigtermStopsAcceptingFinishesInFlightRequestsAndExitsZero() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (ServerSocket upstream = new ServerSocket(0)) {
            // An upstream that holds its answer until the test lets it go.
            Background.run(() -> {
                try (Socket s = upstream.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                    while (!in.readLine().isEmpty()) {
                        // request head
                    }
                    arrived.countDown();
                    release.await();
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nslow!".getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            int port = LbProcess.freePort();
            Path stack = dir.resolve("kontena.yml");
            Files.writeString(stack, """
                    services:
                      lb:
                        image: kontena/lb
                        ports: ["%d:80"]
                      slow:
                        image: slow
                        links: [lb]
                        upstreams: ["127.0.0.1:%d"]
                    """.formatted(port, upstream.getLocalPort()));
            try (LbProcess lb = LbProcess.run(stack, List.of("-Xmx128m"), "--drain-timeout", "20")) {
                lb.awaitListening(port);
                CompletableFuture<RawHttp.Response> slow = Background.supply(() -> {
                    try {
                        return RawHttp.get(port, "x", "/slow");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

                lb.terminate();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (accepts(port)) {
                    assertThat(System.nanoTime()).as("still accepting 10 s after SIGTERM").isLessThan(deadline);
                    Thread.sleep(20);
                }
                assertThat(lb.isAlive()).as("waits for the request in flight").isTrue();

                release.countDown();
                RawHttp.Response r = slow.get(10, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("slow!");
                assertThat(lb.awaitExit(Duration.ofSeconds(15))).isZero();
            }
        }
    }

    @Test
    void sigtermLetsLongStreamsTunnelsAndRelaysFinish() throws Exception {
        EventLoopGroup loops = Transport.eventLoops(1, "upstreams");
        try (WhoAmI web = WhoAmI.start("web-1", "127.0.0.1", 0, loops); RawServer db = RawServer.greeter("db-1")) {
            int http = LbProcess.freePort();
            int tcp = LbProcess.freePort();
            try (LbProcess lb = LbProcess.run(stack(http, tcp, web.port(), db.port()), List.of("-Xmx128m"),
                    "--drain-timeout", "20")) {
                lb.awaitListening(http).awaitListening(tcp); // listeners open one after the other
                // A long streamed response under way: 16 pieces of 64 KB, one every 100 ms.
                RawHttp stream = new RawHttp(http);
                stream.send("GET /web/s?size=1048576&pace=100 HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(stream.readLine()).isEqualTo("HTTP/1.1 200 OK");
                // A WebSocket, a TCP stream, and a keep-alive connection with a request in flight.
                Chat chat = Chat.open(http, "/web/chat");
                assertThat(chat.say("before")).isEqualTo("web-1: before");
                Socket relay = new Socket("127.0.0.1", tcp);
                relay.setSoTimeout(15_000);
                assertThat(line(relay)).isEqualTo("db-1");
                RawHttp keepAlive = new RawHttp(http);
                assertThat(keepAlive.send("GET /web/ HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
                keepAlive.send("GET /web/?wait=500 HTTP/1.1\r\nHost: x\r\n\r\n");

                lb.terminate();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (accepts(http)) {
                    assertThat(System.nanoTime()).as("still accepting 10 s after SIGTERM").isLessThan(deadline);
                    Thread.sleep(20);
                }

                long length = -1;
                for (String h = stream.readLine(); !h.isEmpty(); h = stream.readLine()) {
                    if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Long.parseLong(h.substring(15).trim());
                    }
                }
                assertThat(length).isEqualTo(1 << 20);
                assertThat(stream.in().readNBytes(1 << 20)).hasSize(1 << 20);
                stream.close();

                RawHttp.Response last = keepAlive.read();
                assertThat(last.status()).isEqualTo(200);
                assertThat(last.header("connection")).isEqualTo("close");
                assertThat(keepAlive.isClosedByPeer()).isTrue();

                relay.getOutputStream().write("after\n".getBytes(StandardCharsets.UTF_8));
                assertThat(line(relay)).isEqualTo("after");
                relay.shutdownOutput();
                assertThat(relay.getInputStream().read()).isEqualTo(-1);
                relay.close();

                assertThat(chat.say("after")).isEqualTo("web-1: after");
                assertThat(lb.isAlive()).as("waits for the WebSocket").isTrue();
                chat.close();
                assertThat(lb.awaitExit(Duration.ofSeconds(15))).isZero();
            }
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void theDrainTimeoutEndsWhatOutlastsIt() throws Exception {
        try (RawServer db = RawServer.greeter("db-1")) {
            int http = LbProcess.freePort();
            int tcp = LbProcess.freePort();
            try (LbProcess lb = LbProcess.run(stack(http, tcp, 1, db.port()), List.of("-Xmx128m"),
                    "--drain-timeout", "1")) {
                lb.awaitListening(tcp);
                try (Socket relay = new Socket("127.0.0.1", tcp)) {
                    relay.setSoTimeout(15_000);
                    assertThat(line(relay)).isEqualTo("db-1");
                    lb.terminate();
                    assertThat(relay.getInputStream().read()).as("closed when the drain timeout passed").isEqualTo(-1);
                    assertThat(lb.awaitExit(Duration.ofSeconds(15))).isZero();
                }
            }
        }
    }

    private Path stack(int http, int tcp, int web, int db) throws java.io.IOException {
        Path stack = Files.createTempFile(dir, "stack", ".yml");
        Files.writeString(stack, """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["%d:80", "%d:5000"]
                  web:
                    image: whoami
                    environment: {KONTENA_LB_VIRTUAL_PATH: /web}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                  db:
                    image: db
                    environment: {KONTENA_LB_MODE: tcp, KONTENA_LB_EXTERNAL_PORT: "5000"}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(http, tcp, web, db));
        return stack;
    }


    private static String line(Socket s) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = s.getInputStream().read()) != -1 && c != '\n') {
            b.append((char) c);
        }
        return b.toString();
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
