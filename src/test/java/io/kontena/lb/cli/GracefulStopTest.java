package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawHttp;
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
            CompletableFuture.runAsync(() -> {
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
                CompletableFuture<RawHttp.Response> slow = CompletableFuture.supplyAsync(() -> {
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

    private static boolean accepts(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
