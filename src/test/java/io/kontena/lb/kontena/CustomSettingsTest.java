package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HeaderRules.HeaderRule;
import io.kontena.lb.config.HeaderRules.HeaderRule.Action;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.Timeouts;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CustomSettingsTest {
    private final Problems problems = new Problems();

    private CustomSettings.Result http(String text) {
        return CustomSettings.parse("web", text, true, problems);
    }

    private CustomSettings.Result tcp(String text) {
        return CustomSettings.parse("db", text, false, problems);
    }

    @Test
    void timeoutsOverrideTheDefaults() {
        CustomSettings.Result result = http("""
                timeout connect 500
                timeout server 2m
                timeout client 30s
                timeout tunnel 1d
                """);

        assertThat(problems.list()).isEmpty();
        assertThat(result.timeouts()).isEqualTo(new Timeouts(
                Duration.ofMillis(500), Duration.ofMinutes(2), Duration.ofSeconds(30), Duration.ofDays(1)));
    }

    @Test
    void untouchedTimeoutsKeepTheirDefaults() {
        CustomSettings.Result result = tcp("timeout server 10s");

        assertThat(result.timeouts()).isEqualTo(Timeouts.DEFAULTS.withServer(Duration.ofSeconds(10)));
    }

    @Test
    void balanceLineSetsTheBalance() {
        assertThat(http("balance source").balance()).contains(Balance.SOURCE);
        assertThat(tcp("balance leastconn").balance()).contains(Balance.LEAST_CONN);
        assertThat(http("timeout server 1m").balance()).isEmpty();
        assertThat(problems.list()).isEmpty();
    }

    @Test
    void headerRulesInOrder() {
        CustomSettings.Result result = http("""
                http-request set-header X-Forwarded-Proto https
                http-request add-header X-Trace "a b"
                http-request del-header Cookie
                http-response set-header Strict-Transport-Security "max-age=31536000; includeSubDomains"
                http-response add-header X-Percent 100%%
                """);

        assertThat(problems.list()).isEmpty();
        assertThat(result.headers()).isEqualTo(new HeaderRules(
                List.of(new HeaderRule(Action.SET, "X-Forwarded-Proto", "https"),
                        new HeaderRule(Action.ADD, "X-Trace", "a b"),
                        new HeaderRule(Action.DELETE, "Cookie", "")),
                List.of(new HeaderRule(Action.SET, "Strict-Transport-Security",
                                "max-age=31536000; includeSubDomains"),
                        new HeaderRule(Action.ADD, "X-Percent", "100%")),
                false));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "redirect scheme https if !{ ssl_fc }",
            "redirect scheme https code 301 if !{ ssl_fc }",
            "redirect scheme https code 308 if !{ssl_fc}",
    })
    void redirectToHttps(String line) {
        assertThat(http(line).headers().redirectToHttps()).isTrue();
        assertThat(problems.list()).isEmpty();
    }

    @Test
    void builtInOptionsBlankLinesAndCommentsAreAccepted() {
        CustomSettings.Result result = http("""
                # keep-alive is always on

                option forwardfor
                   option http-server-close
                option http-keep-alive
                """);

        assertThat(problems.list()).isEmpty();
        assertThat(result).isEqualTo(CustomSettings.Result.NONE);
    }

    @Test
    void anUnsupportedLineNamesItsLineAndListsWhatIsSupported() {
        http("timeout server 1m\n\noption httpchk GET /health\n");

        assertThat(problems.list()).singleElement().satisfies(p -> {
            assertThat(p.subject()).isEqualTo("web");
            assertThat(p.key()).isEqualTo("KONTENA_LB_CUSTOM_SETTINGS");
            assertThat(p.value()).isEqualTo("option httpchk GET /health");
            assertThat(p.message()).startsWith("line 3: not supported; supported lines: ")
                    .contains("timeout connect|server|client|tunnel <time>")
                    .contains("balance roundrobin|source|leastconn")
                    .contains("http-request set-header|add-header|del-header NAME [VALUE]")
                    .contains("http-response set-header|add-header|del-header NAME [VALUE]")
                    .contains("redirect scheme https [code 301|302|303|307|308] if !{ ssl_fc }")
                    .contains("option forwardfor|http-server-close|http-keep-alive");
        });
    }

    @Test
    void everyBadLineIsAProblemOfItsOwn() {
        http("""
                timeout queue 5s
                timeout server soon
                timeout server 0
                balance random
                http-request set-header X-Real-IP %[src]
                http-request set-header X-Proto https if { ssl_fc }
                http-request set-header X-Two words here
                http-request set-header X-Empty
                http-request del-header X-A extra
                http-request set-header Bad:Name v
                http-request replace-header X a b
                redirect scheme https
                redirect scheme https code 399 if !{ ssl_fc }
                redirect location /elsewhere
                http-request set-header X-Quote "unclosed
                option httplog
                """);

        assertThat(problems.list()).extracting(p -> p.message()).satisfiesExactly(
                m -> assertThat(m).startsWith("line 1: not supported"),
                m -> assertThat(m).startsWith("line 2: 'soon' is not a time; expected a number"),
                m -> assertThat(m).startsWith("line 3: 0 would mean no time limit"),
                m -> assertThat(m).isEqualTo("line 4: unknown balance 'random'; expected roundrobin, source or "
                        + "leastconn"),
                m -> assertThat(m).startsWith("line 5: HAProxy expressions such as %[src] are not supported"),
                m -> assertThat(m).isEqualTo("line 6: conditions (if/unless) are not supported on header rules"),
                m -> assertThat(m).startsWith("line 7: too many words; quote a value that has spaces"),
                m -> assertThat(m).isEqualTo("line 8: set-header needs a value after the header name"),
                m -> assertThat(m).startsWith("line 9: too many words"),
                m -> assertThat(m).isEqualTo("line 10: 'Bad:Name' is not a header name"),
                m -> assertThat(m).startsWith("line 11: not supported"),
                m -> assertThat(m).startsWith("line 12: the redirect needs the condition 'if !{ ssl_fc }'"),
                m -> assertThat(m).isEqualTo("line 13: a redirect code is one of 301, 302, 303, 307 or 308"),
                m -> assertThat(m).startsWith("line 14: not supported"),
                m -> assertThat(m).isEqualTo("line 15: a quote (\") is not closed"),
                m -> assertThat(m).startsWith("line 16: not supported"));
        assertThat(problems.list()).extracting(Problem::value).startsWith("timeout queue 5s", "timeout server soon");
    }

    @Test
    void httpLinesAreProblemsOnTcp() {
        CustomSettings.Result result = tcp("""
                timeout tunnel 2h
                http-request set-header X-A b
                redirect scheme https if !{ ssl_fc }
                option forwardfor
                """);

        assertThat(result.timeouts().tunnel()).isEqualTo(Duration.ofHours(2));
        assertThat(problems.list()).extracting(Problem::message).containsExactly(
                "line 2: 'http-request' applies only to KONTENA_LB_MODE=http; supported for tcp: "
                        + "timeout connect|server|client|tunnel <time>; balance roundrobin|source|leastconn",
                "line 3: 'redirect' applies only to KONTENA_LB_MODE=http; supported for tcp: "
                        + "timeout connect|server|client|tunnel <time>; balance roundrobin|source|leastconn",
                "line 4: 'option' applies only to KONTENA_LB_MODE=http; supported for tcp: "
                        + "timeout connect|server|client|tunnel <time>; balance roundrobin|source|leastconn");
        assertThat(problems.list()).extracting(Problem::subject).containsOnly("db");
    }

    @Test
    void tcpListsOnlyWhatTcpSupports() {
        tcp("stick-table type ip size 1m");

        assertThat(problems.list()).singleElement().extracting(Problem::message).isEqualTo(
                "line 1: not supported; supported lines: timeout connect|server|client|tunnel <time>; "
                        + "balance roundrobin|source|leastconn");
    }

    @Test
    void laterLinesWin() {
        CustomSettings.Result result = http("balance source\nbalance roundrobin\ntimeout server 1s\ntimeout server 2s");

        assertThat(result.balance()).contains(Balance.ROUND_ROBIN);
        assertThat(result.timeouts().server()).isEqualTo(Duration.ofSeconds(2));
    }
}
