package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.HealthCheck;
import io.kontena.lb.config.LbConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A service's health_check: from a stack file, and from etcd's keys, into the model, or into problems. */
class HealthCheckSettingsTest {
    private static LbConfig translate(String healthCheck) {
        return Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                  web:
                    image: whoami
                    links: [lb]
                    upstreams: ["10.0.0.1:8080"]
                    health_check:
                %s
                  db:
                    image: postgres
                    environment: {KONTENA_LB_MODE: tcp}
                    links: [lb]
                    upstreams: ["10.0.0.2:5432"]
                """.formatted(healthCheck.indent(6).stripTrailing()), "kontena.yml"), Optional.empty());
    }

    @Test
    void kontenasFieldsBecomeTheCheck() {
        LbConfig http = translate("protocol: http\nuri: /health\nport: 8081\ninterval: 5\ntimeout: 500ms\n"
                + "initial_delay: 30");
        assertThat(http.problems()).isEmpty();
        assertThat(http.http().get(0).healthCheck()).contains(
                new HealthCheck("/health", 8081, Duration.ofSeconds(5), Duration.ofMillis(500)));
        assertThat(http.tcp().get(0).healthCheck()).isEmpty();

        assertThat(translate("protocol: tcp").http().get(0).healthCheck()).contains(
                new HealthCheck("", 0, HealthCheckSettings.DEFAULT_INTERVAL, HealthCheckSettings.DEFAULT_TIMEOUT));
        assertThat(translate("uri: /ping").http().get(0).healthCheck().orElseThrow().httpPath())
                .as("a uri alone means HTTP").isEqualTo("/ping");
    }

    @Test
    void eachBadFieldRejectsTheServiceWithAProblemNamingIt() {
        assertThat(problems("protocol: udp")).singleElement().asString()
                .contains("web: health_check.protocol=udp: expected http", "or tcp");
        assertThat(problems("protocol: http")).singleElement().asString()
                .contains("health_check.uri", "needs the path it asks for");
        assertThat(problems("protocol: tcp\nuri: /x")).singleElement().asString()
                .contains("a TCP check makes a connection only");
        assertThat(problems("port: 70000")).singleElement().asString()
                .contains("health_check.port=70000", "from 1 to 65535");
        assertThat(problems("interval: soon")).singleElement().asString()
                .contains("health_check.interval=soon", "expected seconds");
        assertThat(problems("interval: 0")).singleElement().asString()
                .contains("health_check.interval=0", "expected from 100 ms to an hour");
        assertThat(problems("timeout: 1us")).singleElement().asString()
                .contains("health_check.timeout=1us", "expected from 10 ms to an hour");
        assertThat(problems("intervall: 5")).singleElement().asString()
                .contains("health_check.intervall", "did you mean interval?");
    }

    private static List<String> problems(String healthCheck) {
        LbConfig config = translate(healthCheck);
        assertThat(config.http()).as("the service is rejected").isEmpty();
        return config.problems().stream().map(Object::toString).toList();
    }

    @Test
    void etcdKeysCarryTheCheckBothWays() {
        String dir = "/kontena/haproxy/lb/services/web/";
        LbConfig config = EtcdLayout.translate("lb", Map.of(dir + "balance", "roundrobin",
                dir + "upstreams/1", "10.0.0.1:80", dir + "health_check_uri", "/health",
                dir + "health_check_port", "8081"), Map.of(), List.of());
        assertThat(config.http().get(0).healthCheck()).contains(new HealthCheck("/health", 8081,
                HealthCheckSettings.DEFAULT_INTERVAL, HealthCheckSettings.DEFAULT_TIMEOUT));

        LbConfig bad = EtcdLayout.translate("lb", Map.of(dir + "balance", "roundrobin",
                dir + "health_check_port", "x"), Map.of(), List.of());
        assertThat(bad.problems()).singleElement().satisfies(p -> assertThat(p.key())
                .isEqualTo(dir + "health_check_port"));

        var stack = StackFile.parse("""
                services:
                  lb: {image: kontena/lb}
                  web:
                    image: whoami
                    links: [lb]
                    upstreams: ["10.0.0.1"]
                    health_check: {protocol: http, uri: /health, interval: 5, initial_delay: 10}
                """, "kontena.yml");
        assertThat(EtcdLayout.keysOf(stack, Translator.translate(stack, Optional.empty())).get("services/web/"))
                .containsEntry("health_check_protocol", "http").containsEntry("health_check_uri", "/health")
                .containsEntry("health_check_interval", "5").doesNotContainKey("health_check_initial_delay");
    }
}
