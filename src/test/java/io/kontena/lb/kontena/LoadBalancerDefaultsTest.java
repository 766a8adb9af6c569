package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.TcpService;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The load balancer's own KONTENA_LB_CUSTOM_SETTINGS: HAProxy's defaults, which every service starts from. */
class LoadBalancerDefaultsTest {
    private static LbConfig translate(String lbSettings) {
        return Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                    environment:
                      KONTENA_LB_CUSTOM_SETTINGS: |
                %s
                  web:
                    image: whoami
                    links: [lb]
                    upstreams: ["10.0.0.1"]
                  api:
                    image: whoami
                    environment:
                      KONTENA_LB_VIRTUAL_PATH: /api
                      KONTENA_LB_CUSTOM_SETTINGS: timeout server 30s
                    links: [lb]
                    upstreams: ["10.0.0.2"]
                  db:
                    image: postgres
                    environment: {KONTENA_LB_MODE: tcp}
                    links: [lb]
                    upstreams: ["10.0.0.3:5432"]
                """.formatted(lbSettings.indent(8).stripTrailing()), "kontena.yml"), Optional.empty());
    }

    @Test
    void everyServiceStartsFromTheLoadBalancersLinesAndItsOwnWin() {
        LbConfig config = translate("timeout server 2m\ntimeout connect 3s\nhttp-response set-header X-Served-By lb");
        assertThat(config.problems()).isEmpty();
        HttpService web = config.http().stream().filter(s -> s.name().equals("web")).findFirst().orElseThrow();
        HttpService api = config.http().stream().filter(s -> s.name().equals("api")).findFirst().orElseThrow();
        TcpService db = config.tcp().get(0);
        assertThat(web.timeouts().server()).isEqualTo(Duration.ofMinutes(2));
        assertThat(web.timeouts().connect()).isEqualTo(Duration.ofSeconds(3));
        assertThat(web.headers().response()).hasSize(1);
        assertThat(api.timeouts().server()).as("its own line wins").isEqualTo(Duration.ofSeconds(30));
        assertThat(api.timeouts().connect()).isEqualTo(Duration.ofSeconds(3));
        assertThat(api.headers().response()).hasSize(1);
        assertThat(db.timeouts().connect()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void aBalanceLineOrAnUnsupportedOneIsAProblemOfTheLoadBalancer() {
        assertThat(translate("balance source").problems()).singleElement().asString()
                .contains("lb: KONTENA_LB_CUSTOM_SETTINGS=balance", "each service's KONTENA_LB_BALANCE");
        assertThat(translate("maxconn 4096").problems()).singleElement().asString()
                .contains("lb: KONTENA_LB_CUSTOM_SETTINGS=maxconn 4096");
    }
}
