package io.kontena.lb.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.TestCertificates;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What the watcher keeps when a snapshot rejects something: services, HTTPS, certificates. */
class ConfigWatcherTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private final TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();
    private final TestCertificates.Issued api = TestCertificates.cert("api.example.com").build();

    private static LbConfig translate(String www, String api, String webVariables) {
        return Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:80", "0:443"]
                    environment:
                %s%s
                  web:
                    image: web
                    environment: {%s}
                    links: [lb]
                    upstreams: ["127.0.0.1:1"]
                """.formatted(www == null ? "" : "      SSL_CERT_www: |\n" + www.indent(8),
                api == null ? "" : "      SSL_CERT_api: |\n" + api.indent(8), webVariables), "kontena.yml"),
                Optional.empty());
    }

    @Test
    void aServiceRejectedLaterKeepsHttpsAsItWas() {
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        watcher.offer(translate(www.bundle(), api.bundle(), ""));
        int port = lb.runtime().httpsPort();

        watcher.offer(translate(www.bundle(), api.bundle(), "KONTENA_LB_BALANCE: nonsense"));

        assertThat(watcher.problems()).extracting(Problem::subject).containsExactly("web");
        assertThat(watcher.applied().http()).extracting(s -> s.name()).containsExactly("web");
        assertThat(watcher.applied().https()).map(Https::certificates).get().asList().hasSize(2);
        assertThat(lb.runtime().httpsPort()).isEqualTo(port);
    }

    @Test
    void aBrokenBundleKeepsServingItsLastGoodCertificateInItsPlace() throws Exception {
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        watcher.offer(translate(www.bundle(), api.bundle(), ""));

        String broken = api.bundle().replaceFirst("(?m)^(MII.{10})", "$1!!!!");
        watcher.offer(translate(www.bundle(), broken, ""));

        assertThat(watcher.problems()).extracting(Problem::key).containsExactly("SSL_CERT_api");
        Https https = watcher.applied().https().orElseThrow();
        assertThat(https.certificates()).extracting(Certificate::origin).containsExactly("SSL_CERT_api", "SSL_CERT_www");
        assertThat(https.certificates().get(0).leaf()).isEqualTo(api.certificate());
        assertThat(https.warnings()).extracting(Problem::message).anySatisfy(m ->
                assertThat(m).contains("last good certificate (api.example.com) keeps serving"));

        // and when every bundle breaks, HTTPS still serves all of them
        watcher.offer(translate("no PEM here", broken, ""));
        assertThat(watcher.applied().https().orElseThrow().certificates()).extracting(Certificate::leaf)
                .containsExactly(api.certificate(), www.certificate());
        assertThat(lb.runtime().httpsPort()).isPositive();

        // removing a variable is no mistake: its certificate goes
        watcher.offer(translate(www.bundle(), null, ""));
        assertThat(watcher.applied().https().orElseThrow().certificates()).extracting(Certificate::origin)
                .containsExactly("SSL_CERT_www");
    }
}
