package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.TestCertificates;
import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * HTTP/2 as a user gets it: {@code run} with {@code SSL_CERTS} in the stack file, and the JDK's own HTTP client,
 * which negotiates h2 by ALPN and checks the certificate.
 */
class Http2ProcessTest {
    @TempDir
    Path dir;

    /** BoringSSL where it loads; the JDK's TLS where it does not (Netty's switch stands in for a machine without it). */
    @ParameterizedTest
    @CsvSource({"'', TLS by BoringSSL", "-Dio.netty.handler.ssl.noOpenSsl=true, TLS by the JDK (OpenSSL is not available"})
    void theJdkClientSpeaksHttp2ThroughTheLoadBalancer(String jvmOption, String provider) throws Exception {
        TestCertificates.Issued certificate = TestCertificates.cert("localhost").sans("localhost").build();
        EventLoopGroup loops = Transport.eventLoops(1, "upstreams");
        int port = LbProcess.freePort();
        Path stack = dir.resolve("kontena.yml");
        try (WhoAmI web = WhoAmI.start("web-1", "127.0.0.1", 0, loops);
             WhoAmI api = WhoAmI.start("api-1", "127.0.0.1", 0, loops)) {
            Files.writeString(stack, """
                    services:
                      lb:
                        image: kontena/lb
                        ports: ["%d:443"]
                        environment:
                          SSL_CERTS: |
                    %s
                      web:
                        image: web
                        environment: {KONTENA_LB_VIRTUAL_HOSTS: localhost, KONTENA_LB_VIRTUAL_PATH: /web}
                        links: [lb]
                        upstreams: ["127.0.0.1:%d"]
                      api:
                        image: api
                        environment: {KONTENA_LB_VIRTUAL_HOSTS: localhost, KONTENA_LB_VIRTUAL_PATH: /api}
                        links: [lb]
                        upstreams: ["127.0.0.1:%d"]
                    """.formatted(port, certificate.bundle().indent(8), web.port(), api.port()));
            try (LbProcess lb = LbProcess.run(stack, jvmOption.isEmpty() ? List.of() : List.of(jvmOption),
                    "--access-log=true").awaitListening(port)) {
                awaitLog(lb, provider);
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                        .sslContext(trusting(certificate)).connectTimeout(Duration.ofSeconds(5)).build();
                URI base = URI.create("https://localhost:" + port);

                HttpResponse<String> root;
                try {
                    root = client.send(HttpRequest.newBuilder(base.resolve("/web/x")).build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) { // seen once in CI (a plaintext answer): what the process said, to tell why
                    throw new AssertionError("the first request failed (process alive: " + lb.isAlive() + "); its log:"
                            + System.lineSeparator() + lb.log(), e);
                }
                assertThat(root.version()).isEqualTo(HttpClient.Version.HTTP_2);
                assertThat(root.statusCode()).isEqualTo(200);
                assertThat(root.headers().firstValue("x-instance")).hasValue("web-1");
                assertThat(root.body()).contains("request: GET /x HTTP/1.1", "x-forwarded-proto: https");

                // several streams at once, routed by path
                List<CompletableFuture<HttpResponse<String>>> many = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    many.add(client.sendAsync(HttpRequest.newBuilder(base.resolve("/api/item/" + i)).build(),
                            HttpResponse.BodyHandlers.ofString()));
                }
                for (int i = 0; i < 10; i++) {
                    HttpResponse<String> r = many.get(i).get(20, TimeUnit.SECONDS);
                    assertThat(r.headers().firstValue("x-instance")).hasValue("api-1");
                    assertThat(r.body()).contains("request: GET /item/" + i + " HTTP/1.1");
                }

                // a streamed upload of unknown length and a streamed download
                byte[] body = new byte[3 << 20];
                new java.util.Random(3).nextBytes(body);
                CRC32 crc = new CRC32();
                crc.update(body);
                HttpResponse<String> up = client.send(HttpRequest.newBuilder(base.resolve("/web/upload"))
                                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
                                .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(up.body()).contains("body-bytes: " + body.length,
                        "body-crc32: " + Long.toHexString(crc.getValue()));
                HttpResponse<InputStream> down = client.send(HttpRequest.newBuilder(
                        base.resolve("/web/download?size=5000000")).build(), HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = down.body()) {
                    assertThat(in.transferTo(java.io.OutputStream.nullOutputStream())).isEqualTo(5_000_000L);
                }

                HttpResponse<String> none = client.send(HttpRequest.newBuilder(base.resolve("/elsewhere")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(none.statusCode()).isEqualTo(503);

                // the access log tells HTTP/2 requests apart
                awaitLog(lb, "\"GET /web/x HTTP/2.0\" web 127.0.0.1:" + web.port() + " 200");
            }
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static SSLContext trusting(TestCertificates.Issued certificate) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("lb", certificate.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private static void awaitLog(LbProcess lb, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!lb.log().contains(text)) {
            assertThat(System.nanoTime()).as("log line with %s in:%n%s", text, lb.log()).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
