package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawHttp;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run --admin PORT} as operators and scripts use it to know when a change is live: the applied
 * configuration with its generation, what a change rejected, and health. Changes come by SIGHUP here: the stack
 * file is a symbolic link into another directory (as mounted configuration often is), whose changes the watch of
 * the link's directory does not see.
 */
class AdminApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void showsTheAppliedConfigurationItsGenerationAndWhatWasRejected() throws Exception {
        EventLoopGroup loops = Transport.eventLoops(1, "upstreams");
        try (WhoAmI web = WhoAmI.start("web-1", "127.0.0.1", 0, loops);
             WhoAmI api = WhoAmI.start("api-1", "127.0.0.1", 0, loops)) {
            int http = LbProcess.freePort();
            int admin = LbProcess.freePort();
            Path real = Files.createDirectories(dir.resolve("config")).resolve("kontena.yml");
            Files.writeString(real, stack(http, web.port(), "roundrobin", ""));
            Path link = Files.createSymbolicLink(dir.resolve("kontena.yml"), real);
            try (LbProcess lb = LbProcess.run(link, List.of("-Xmx128m"), "--admin", Integer.toString(admin))) {
                lb.awaitListening(http).awaitListening(admin);
                RawHttp.Response health = RawHttp.get(admin, "127.0.0.1", "/api/health");
                assertThat(health.status()).isEqualTo(200);
                assertThat(JSON.readTree(health.body()).get("status").asText()).isEqualTo("serving");

                JsonNode config = config(admin);
                assertThat(config.get("generation").asLong()).isEqualTo(1);
                assertThat(config.get("listeners").get("http").asInt()).isEqualTo(http);
                assertThat(config.get("connections").get("max").asInt()).isPositive();
                assertThat(lb.log()).contains("at most " + config.get("connections").get("max").asInt()
                        + " connections at once");
                assertThat(config.get("http").get(0).get("name").asText()).isEqualTo("web");
                assertThat(config.get("http").get(0).get("upstreams").get(0).asText())
                        .isEqualTo("127.0.0.1:" + web.port());
                RawHttp.get(http, "x", "/");
                RawHttp.get(http, "x", "/");
                JsonNode state = config(admin).get("http").get(0).get("upstreamStates").get(0);
                assertThat(state.get("upstream").asText()).isEqualTo("127.0.0.1:" + web.port());
                assertThat(state.get("requests").asLong()).isEqualTo(2);
                assertThat(state.get("healthy").asBoolean()).isTrue();
                assertThat(state.get("failures").asLong()).isZero();
                RawHttp.Response metrics = RawHttp.get(admin, "127.0.0.1", "/metrics");
                assertThat(metrics.status()).isEqualTo(200);
                assertThat(metrics.header("content-type")).startsWith("text/plain; version=0.0.4");
                assertThat(metrics.text()).contains("kontena_lb_config_generation 1\n",
                        "# TYPE kontena_lb_upstream_requests_total counter\n",
                        "kontena_lb_upstream_requests_total{service=\"web\",upstream=\"127.0.0.1:" + web.port()
                                + "\"} 2\n",
                        "kontena_lb_upstream_healthy{service=\"web\",upstream=\"127.0.0.1:" + web.port() + "\"} 1\n");
                assertThat(config.get("rejected")).isEmpty();

                // web becomes invalid (its last good version keeps serving) and api is added.
                Files.writeString(real, stack(http, web.port(), "fastest", """
                          api:
                            image: whoami
                            environment: {KONTENA_LB_VIRTUAL_PATH: /api}
                            links: [lb]
                            upstreams: ["127.0.0.1:%d"]
                        """.formatted(api.port())));
                lb.hangUp();
                config = awaitConfig(admin, c -> c.get("generation").asLong() == 2);
                assertThat(config.get("http").findValuesAsText("name")).containsExactly("api", "web");
                assertThat(config.get("http").get(1).get("balance").asText()).isEqualTo("roundrobin");
                JsonNode rejected = config.get("rejected").get(0);
                assertThat(rejected.get("service").asText()).isEqualTo("web");
                assertThat(rejected.get("key").asText()).isEqualTo("KONTENA_LB_BALANCE");
                assertThat(rejected.get("value").asText()).isEqualTo("fastest");
                assertThat(rejected.get("message").asText()).contains("roundrobin");
                assertThat(RawHttp.get(http, "x", "/api/").instance()).isEqualTo("api-1");

                // A file that does not parse changes nothing, and says why.
                Files.writeString(real, "services: [unclosed");
                lb.hangUp();
                config = awaitConfig(admin, c -> c.get("rejected").findValuesAsText("service").contains("configuration"));
                assertThat(config.get("generation").asLong()).isEqualTo(2);
                assertThat(config.get("rejected").get(0).get("message").asText()).contains("kontena.yml");

                assertThat(RawHttp.get(admin, "127.0.0.1", "/api/nothing").status()).isEqualTo(404);
                try (RawHttp post = new RawHttp(admin)) {
                    assertThat(post.send("POST /api/config HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                            + "Connection: close\r\n\r\n").read().status()).isEqualTo(405);
                }
            }
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void showsWhichUpstreamsHealthChecksTookOutOfRotation() throws Exception {
        EventLoopGroup loops = Transport.eventLoops(1, "upstreams");
        try (WhoAmI web = WhoAmI.start("web-1", "127.0.0.1", 0, loops)) {
            int http = LbProcess.freePort();
            int admin = LbProcess.freePort();
            int nobody = LbProcess.freePort();
            Path file = dir.resolve("kontena.yml");
            Files.writeString(file, """
                    services:
                      lb:
                        image: kontena/lb
                        ports: ["%d:80"]
                      web:
                        image: whoami
                        links: [lb]
                        upstreams: ["127.0.0.1:%d", "127.0.0.1:%d"]
                        health_check: {protocol: tcp, interval: 100ms, timeout: 500ms}
                    """.formatted(http, web.port(), nobody));
            try (LbProcess lb = LbProcess.run(file, List.of("-Xmx128m"), "--admin", Integer.toString(admin))) {
                lb.awaitListening(http).awaitListening(admin);
                JsonNode web1 = awaitConfig(admin, c -> c.get("http").get(0).get("down").size() == 1)
                        .get("http").get(0);
                assertThat(web1.get("down").get(0).asText()).isEqualTo("127.0.0.1:" + nobody);
                assertThat(web1.get("healthCheck").asText()).isEqualTo("tcp connect every 100 ms, timeout 500 ms");
                assertThat(lb.log()).contains("upstream 127.0.0.1:" + nobody + " of web is down, out of rotation");
            }
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static JsonNode config(int admin) throws Exception {
        RawHttp.Response r = RawHttp.get(admin, "127.0.0.1", "/api/config");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        return JSON.readTree(r.body());
    }

    private static JsonNode awaitConfig(int admin, Predicate<JsonNode> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode config = config(admin);
        while (!condition.test(config)) {
            assertThat(System.nanoTime()).as("admin API still shows %s after 10 s", config).isLessThan(deadline);
            Thread.sleep(20);
            config = config(admin);
        }
        return config;
    }

    private static String stack(int http, int web, String balance, String more) {
        return """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["%d:80"]
                  web:
                    image: whoami
                    environment: {KONTENA_LB_BALANCE: %s}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(http, balance, web) + more;
    }
}
