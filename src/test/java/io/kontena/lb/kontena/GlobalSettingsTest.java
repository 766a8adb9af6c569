package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** KONTENA_LB_GLOBAL_SETTINGS: the TLS lines are honoured, every other line is a problem that says why. */
class GlobalSettingsTest {
    private final List<Problem> problems = new ArrayList<>();

    private GlobalSettings.Tls read(String lines) {
        return GlobalSettings.read("lb", Map.of("KONTENA_LB_GLOBAL_SETTINGS", lines), problems);
    }

    @Test
    void theTlsVersionsOfferedFollowTheBindOptions() {
        assertThat(read("ssl-default-bind-options no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12").protocols())
                .containsExactly("TLSv1.3");
        assertThat(read("ssl-default-bind-options ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2").protocols())
                .containsExactly("TLSv1.2");
        assertThat(read("ssl-default-bind-options ssl-min-ver TLSv1.0").protocols())
                .containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(read("ssl-default-bind-options force-tlsv13").protocols()).containsExactly("TLSv1.3");
        assertThat(read("# a comment\n\n  tune.ssl.default-dh-param 2048  ").protocols())
                .containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(problems).isEmpty();
    }

    @Test
    void theCipherListIsKontenaLbSslCiphers() {
        GlobalSettings.Tls tls = read("ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256");
        assertThat(tls.ciphers()).contains("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256");
        assertThat(problems).isEmpty();
    }

    @Test
    void linesItDoesNotActOnAreProblemsAndTheRestApplies() {
        GlobalSettings.Tls tls = read("maxconn 4096\nssl-default-bind-options no-tlsv12 no-tls-tickets\nlog stdout local0");
        assertThat(tls.protocols()).containsExactly("TLSv1.3");
        assertThat(problems).map(Problem::toString).containsExactly(
                "lb: KONTENA_LB_GLOBAL_SETTINGS=maxconn 4096: the connections held at once are run "
                        + "--max-connections N (by default as many as the open-file limit allows)",
                "lb: KONTENA_LB_GLOBAL_SETTINGS=ssl-default-bind-options no-tlsv12 no-tls-tickets: bind option "
                        + "no-tls-tickets is not supported; supported: ssl-min-ver, ssl-max-ver, no-sslv3, no-tlsv10, "
                        + "no-tlsv11, no-tlsv12, no-tlsv13, force-tlsv12, force-tlsv13",
                "lb: KONTENA_LB_GLOBAL_SETTINGS=log stdout local0: not a global setting this load balancer acts on; it "
                        + "acts on ssl-default-bind-options (ssl-min-ver, ssl-max-ver, no-tlsv12, no-tlsv13, "
                        + "force-tlsv12, force-tlsv13) and ssl-default-bind-ciphers, and accepts "
                        + "tune.ssl.default-dh-param");
    }

    @Test
    void linesThatLeaveNoVersionAreAProblemAndBothVersionsStay() {
        assertThat(read("ssl-default-bind-options no-tlsv12\nssl-default-bind-options no-tlsv13").protocols())
                .containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(problems).singleElement().asString().contains("leave no TLS version to offer");
        problems.clear();
        read("ssl-default-bind-options ssl-max-ver TLSv1.1");
        assertThat(problems).singleElement().asString()
                .contains("ssl-max-ver TLSv1.1: expected TLSv1.2 or TLSv1.3");
    }
}
