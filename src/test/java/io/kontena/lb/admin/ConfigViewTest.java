package io.kontena.lb.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Https;
import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.testing.TestCertificates;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigViewTest {
    @Test
    @SuppressWarnings("unchecked")
    void showsEachCertificatesExpiryAsOfNowAndTheWarnings() {
        Instant now = Instant.now();
        // Validity taken from the same now as the view, so the days left never depend on when the test runs.
        TestCertificates.Issued fine = TestCertificates.cert("fine.example.com")
                .valid(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(90))).build();
        TestCertificates.Issued soon = TestCertificates.cert("soon.example.com")
                .valid(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(20))).build();
        TestCertificates.Issued old = TestCertificates.cert("old.example.com")
                .valid(now.minus(Duration.ofDays(90)), now.minus(Duration.ofDays(2))).build();
        CertificateBundles.Result read = CertificateBundles.read("lb", Map.of(
                "SSL_CERTS", fine.bundle() + soon.bundle() + old.bundle(),
                "KONTENA_LB_DEFAULT_CERT", "soon.example.com"), now);
        Https https = new Https(443, read.certificates(), read.settings(), read.warnings());

        // ten days later, with nothing reloaded: the second one has come due
        Map<String, Object> view = ConfigView.https(https, now.plus(Duration.ofDays(10)));

        assertThat(view).containsEntry("port", 443).containsEntry("http2", true).containsEntry("ciphers", "default");
        List<Map<String, Object>> certificates = (List<Map<String, Object>>) view.get("certificates");
        assertThat(certificates).extracting(c -> c.get("origin") + " " + c.get("status") + " " + c.get("default"))
                .containsExactly("SSL_CERTS#1 valid false", "SSL_CERTS#2 expiring true", "SSL_CERTS#3 expired false");
        assertThat(certificates.get(1)).containsEntry("names", List.of("soon.example.com"))
                .containsEntry("daysLeft", 9L);
        assertThat(certificates.get(2).get("daysLeft")).isEqualTo(-12L);
        // as loaded: only the expired one needed a word then
        assertThat((List<Map<String, Object>>) view.get("warnings")).singleElement()
                .satisfies(w -> assertThat(w.get("message")).asString().contains("CN=old.example.com expired on"));
    }
}
