package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawHttp;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The load balancer as a user runs it: {@code run --stack FILE} in its own JVM with a small heap, in front of real
 * upstreams; a gigabyte each way must pass without the process growing or dying.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunProcessTest {
    private static final long GIGABYTE = 1L << 30;

    private Path dir;
    private EventLoopGroup loops;
    private WhoAmI web;
    private LbProcess lb;
    private int port;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("kontena-lb-run");
        loops = Transport.eventLoops(1, "upstreams");
        web = WhoAmI.start("web-1", "127.0.0.1", 0, loops);
        port = LbProcess.freePort();
        Path stack = dir.resolve("kontena.yml");
        Files.writeString(stack, """
                stack: e2e
                version: '1'
                services:
                  lb:
                    image: kontena/lb:latest
                    ports:
                      - %d:80
                  web:
                    image: whoami
                    environment:
                      KONTENA_LB_MODE: http
                      KONTENA_LB_VIRTUAL_PATH: /web
                    links:
                      - lb
                    upstreams: ["127.0.0.1:%d"]
                  broken:
                    image: whoami
                    environment:
                      KONTENA_LB_VIRTUAL_PATH: /broken
                      KONTENA_LB_BALANCE: fastest
                    links:
                      - lb
                    upstreams: ["127.0.0.1:%2$d"]
                """.formatted(port, web.port()));
        lb = LbProcess.run(stack, List.of("-Xmx64m", "-XX:MaxDirectMemorySize=64m"), "--access-log=true");
        lb.awaitListening(port);
    }

    @AfterAll
    void stop() throws Exception {
        if (lb != null) {
            lb.close();
        }
        if (web != null) {
            web.close();
        }
        if (loops != null) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private void assertHealthy() throws IOException {
        assertThat(lb.isAlive()).as("process alive; log:%n%s", lb.log()).isTrue();
        assertThat(lb.log()).doesNotContain("OutOfMemoryError").doesNotContain("LEAK");
    }

    @Test
    void servesTheStackFileOnTheMappedPort() throws Exception {
        RawHttp.Response r = RawHttp.get(port, "example.com", "/web/hello?x=1");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.instance()).isEqualTo("web-1");
        assertThat(r.echoed("request")).isEqualTo("GET /hello?x=1 HTTP/1.1");
        assertThat(RawHttp.get(port, "example.com", "/other").status()).isEqualTo(503);
        // a rejected service is logged with its problem, and not served
        assertThat(lb.stderr()).contains("broken: KONTENA_LB_BALANCE=fastest: unknown balance; "
                + "expected roundrobin, source or leastconn");
        assertThat(RawHttp.get(port, "example.com", "/broken/x").status()).isEqualTo(503);
    }

    /** The access log line that contains the text, once the process has written it (the log is asynchronous). */
    private String awaitAccessLine(String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<String> lines = lb.stdout().lines().filter(l -> l.contains(text)).toList();
            if (!lines.isEmpty()) {
                assertThat(lines).as("one line per request").hasSize(1);
                return lines.get(0);
            }
            assertThat(System.nanoTime()).as("no access log line with %s in:%n%s", text, lb.stdout())
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void accessLogIsOneLinePerRequestOnStdout() throws Exception {
        RawHttp.Response ok = RawHttp.get(port, "example.com", "/web/logged?x=1");
        RawHttp.Response none = RawHttp.get(port, "example.com", "/nowhere");
        // client "request line" service upstream status bytes duration
        assertThat(awaitAccessLine("/web/logged?x=1")).matches("127\\.0\\.0\\.1 \"GET /web/logged\\?x=1 HTTP/1\\.1\" "
                + "web 127\\.0\\.0\\.1:" + web.port() + " 200 " + ok.body().length + " \\d+\\.\\d{3}ms");
        assertThat(awaitAccessLine("/nowhere")).matches("127\\.0\\.0\\.1 \"GET /nowhere HTTP/1\\.1\" - - 503 "
                + none.body().length + " \\d+\\.\\d{3}ms");
        assertThat(lb.stdout()).as("operator messages go to stderr").doesNotContain(" INFO ");
        assertThat(lb.stderr()).contains(" INFO ").doesNotContain("/web/logged")
                .as("SLF4J and Logback have nothing to report about themselves").doesNotContain("SLF4J")
                .doesNotContain("logback");
        assertThat(lb.stderr().lines().filter(l -> l.contains(" INFO ")))
                .allMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  [A-Za-z]+ - .+"));
    }

    @Test
    void uploadsAGigabyteThroughASmallHeap() throws Exception {
        CRC32 crc = new CRC32();
        byte[] block = new byte[1 << 20];
        try (RawHttp c = new RawHttp(port)) {
            c.socket().setSoTimeout(60_000);
            OutputStream out = c.out();
            out.write(("POST /web/upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + GIGABYTE + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < GIGABYTE / block.length; i++) {
                for (int j = 0; j < block.length; j += 4096) {
                    block[j] = (byte) i; // vary the content so a lost or repeated block changes the checksum
                    block[j + 1] = (byte) (i >> 8);
                }
                crc.update(block);
                out.write(block);
            }
            out.flush();
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoed("body-bytes")).isEqualTo(Long.toString(GIGABYTE));
            assertThat(r.echoed("body-crc32")).isEqualTo(Long.toHexString(crc.getValue()));
            // the connection is still good
            assertThat(c.send("GET /web/after HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
        }
        assertHealthy();
    }

    @Test
    void downloadsAGigabyteThroughASmallHeap() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.socket().setSoTimeout(60_000);
            c.send("GET /web/download?size=" + GIGABYTE + " HTTP/1.1\r\nHost: x\r\n\r\n");
            String status = c.readLine();
            assertThat(status).startsWith("HTTP/1.1 200");
            long length = -1;
            for (String line = c.readLine(); line != null && !line.isEmpty(); line = c.readLine()) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Long.parseLong(line.substring(15).trim());
                }
            }
            assertThat(length).isEqualTo(GIGABYTE);
            InputStream in = c.in();
            byte[] buf = new byte[1 << 16];
            long total = 0;
            while (total < length) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, length - total));
                if (n < 0) {
                    break;
                }
                total += n;
            }
            assertThat(total).isEqualTo(GIGABYTE);
            // and the same connection serves the next request
            assertThat(c.send("GET /web/after HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
        }
        assertHealthy();
    }

    @Test
    void manyConcurrentRequestsAfterwards() throws Exception {
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger ok = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                try (RawHttp c = new RawHttp(port)) {
                    for (int i = 0; i < 50; i++) {
                        if (c.send("GET /web/x HTTP/1.1\r\nHost: x\r\n\r\n").read().status() == 200) {
                            ok.incrementAndGet();
                        }
                    }
                } catch (IOException e) {
                    // counted as missing
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join(30_000);
        }
        assertThat(ok.get()).isEqualTo(400);
        assertHealthy();
    }
}
