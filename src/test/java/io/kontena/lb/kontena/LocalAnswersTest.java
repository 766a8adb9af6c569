package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.LbConfig;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The load balancer's own answers from its variables: the health URI and ACME http-01 challenges. */
class LocalAnswersTest {
    private static LbConfig translate(String lbEnvironment) {
        return Translator.translate(StackFile.parse("""
                services:
                  lb:
                    image: kontena/lb
                    environment:
                %s
                """.formatted(lbEnvironment.indent(6).stripTrailing()), "kontena.yml"), Optional.empty());
    }

    @Test
    void theHealthUriAndEachChallengeAreAnsweredAndNeedTheHttpListenerEvenWithoutServices() {
        LbConfig config = translate("KONTENA_LB_HEALTH_URI: /healthz\n"
                + "ACME_CHALLENGE_evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA: evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI");
        assertThat(config.problems()).isEmpty();
        assertThat(config.frontend().answers()).isEqualTo(Map.of("/healthz", "OK\n",
                "/.well-known/acme-challenge/evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
                "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"));
        assertThat(config.httpPort()).contains(80);
        assertThat(translate("KONTENA_LB_HTTP2: \"false\"").httpPort()).isEmpty();
    }

    @Test
    void aStatsPasswordIsWhatTheStatisticsPageAsksForAndNeverShown() {
        LbConfig config = translate("STATS_PASSWORD: s3cret");
        assertThat(config.problems()).isEmpty();
        assertThat(config.frontend().statsPassword()).contains("s3cret");
        assertThat(config.toString()).doesNotContain("s3cret");
        assertThat(translate("STATS_PASSWORD: \"\"").problems()).singleElement().asString()
                .contains("lb: STATS_PASSWORD: empty");
        assertThat(translate("KONTENA_LB_HEALTH_URI: /healthz").frontend().statsPassword()).isEmpty();
    }

    @Test
    void badValuesAreProblemsOfTheLoadBalancer() {
        assertThat(translate("KONTENA_LB_HEALTH_URI: health").problems()).singleElement().asString()
                .contains("lb: KONTENA_LB_HEALTH_URI=health: expected a path such as /health");
        assertThat(translate("ACME_CHALLENGE_a.b: x").problems()).singleElement().asString()
                .contains("ACME_CHALLENGE_a.b=x", "base64url");
        assertThat(translate("ACME_CHALLENGE_abc: \"a b\"").problems()).singleElement().asString()
                .contains("expected the key authorization");
    }
}
