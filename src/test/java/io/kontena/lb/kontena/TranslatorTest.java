package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HeaderRules.HeaderRule;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.Upstream;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TranslatorTest {
    static final String LB = "lb:\n  image: kontena/lb:latest\n";

    static LbConfig translate(String yaml) {
        return Translator.translate(StackFile.parse(yaml, "kontena.yml"), Optional.empty());
    }

    /** A service linked to "lb" with the given environment entries and upstreams ("-" separates them). */
    static String service(String name, String... entries) {
        List<String> all = Arrays.asList(entries);
        int split = all.indexOf("-");
        List<String> env = split < 0 ? all : all.subList(0, split);
        List<String> upstreams = split < 0 ? List.of() : all.subList(split + 1, all.size());
        return name + ":\n  image: app\n  links:\n    - lb\n"
                + (env.isEmpty() ? "" : "  environment:\n" + quoted(env))
                + (upstreams.isEmpty() ? "" : "  upstreams:\n" + quoted(upstreams));
    }

    private static String quoted(List<String> items) {
        return items.stream()
                .map(i -> "    - \"" + i.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"\n")
                .collect(Collectors.joining());
    }

    static HttpService onlyHttp(LbConfig config) {
        assertThat(config.problems()).isEmpty();
        assertThat(config.http()).hasSize(1);
        return config.http().get(0);
    }

    static Problem onlyProblem(LbConfig config) {
        assertThat(config.problems()).hasSize(1);
        return config.problems().get(0);
    }

    static void assertProblem(Problem problem, String subject, String key, String value, String... hints) {
        assertThat(problem.subject()).as("subject").isEqualTo(subject);
        assertThat(problem.key()).as("key").isEqualTo(key);
        assertThat(problem.value()).as("value").isEqualTo(value);
        for (String hint : hints) {
            assertThat(problem.message()).as("message").contains(hint);
        }
    }

    @Nested
    class SeedExamples {
        @Test
        void internetFacingHttp() {
            LbConfig config = translate(StackFileTest.SEED_HTTP);

            assertThat(config.problems()).isEmpty();
            assertThat(config.httpPort()).contains(80);
            assertThat(config.tcp()).isEmpty();
            assertThat(config.http()).containsExactly(
                    new HttpService("api", Balance.ROUND_ROBIN, List.of(), List.of("/api"), false, false,
                            List.of(), Timeouts.DEFAULTS, HeaderRules.NONE),
                    new HttpService("web", Balance.ROUND_ROBIN, List.of("www.kontena.io", "kontena.io"), List.of(),
                            false, false, List.of(), Timeouts.DEFAULTS, HeaderRules.NONE));
        }

        @Test
        void internalTcpNeedsUpstreamsWithoutAnOrchestrator() {
            LbConfig config = translate(StackFileTest.SEED_TCP);

            assertThat(config.tcp()).isEmpty();
            assertThat(config.httpPort()).isEmpty();
            assertProblem(onlyProblem(config), "galera", "upstreams", "",
                    "a TCP service needs at least one upstream", "upstreams:");
        }

        @Test
        void internalTcpWithUpstreams() {
            LbConfig config = translate(StackFileTest.SEED_TCP + "  upstreams:\n    - 10.0.0.5\n    - 10.0.0.6:3307\n");

            assertThat(config.problems()).isEmpty();
            assertThat(config.httpPort()).isEmpty();
            assertThat(config.tcp()).containsExactly(new TcpService("galera", Balance.LEAST_CONN, 3306,
                    List.of(new Upstream("10.0.0.5", 3306), new Upstream("10.0.0.6", 3307)), Timeouts.DEFAULTS));
        }
    }

    @Nested
    class ChoosingTheLoadBalancer {
        static final String TWO_LBS = """
                public:
                  image: kontena/lb
                private:
                  image: example/haproxy
                  environment:
                    KONTENA_SERVICE_ROLE: lb
                web:
                  image: nginx
                  links: [public]
                db:
                  image: mysql
                  links: [private]
                  environment: [KONTENA_LB_MODE=tcp]
                  upstreams: [10.0.0.9:3306]
                """;

        @Test
        void byImageOrRole() {
            Stack stack = StackFile.parse(TWO_LBS, "kontena.yml");

            assertThat(Translator.loadBalancers(stack)).containsExactly("public", "private");
            assertThat(Translator.isLoadBalancer(stack.service("web").orElseThrow())).isFalse();
        }

        @Test
        void eachLoadBalancerGetsItsOwnServices() {
            Stack stack = StackFile.parse(TWO_LBS, "kontena.yml");

            LbConfig publicLb = Translator.translate(stack, Optional.of("public"));
            LbConfig privateLb = Translator.translate(stack, Optional.of("private"));

            assertThat(publicLb.http()).extracting(HttpService::name).containsExactly("web");
            assertThat(publicLb.tcp()).isEmpty();
            assertThat(privateLb.http()).isEmpty();
            assertThat(privateLb.tcp()).extracting(TcpService::name).containsExactly("db");
        }

        @Test
        void severalWithoutANameIsAnError() {
            Stack stack = StackFile.parse(TWO_LBS, "kontena.yml");

            assertThatThrownBy(() -> Translator.translate(stack, Optional.empty()))
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("the stack has several load balancer services; name the one to use "
                            + "(load balancer services: public, private)");
        }

        @Test
        void noneIsAnError() {
            Stack stack = StackFile.parse("web:\n  image: nginx\n", "kontena.yml");

            assertThatThrownBy(() -> Translator.translate(stack, Optional.empty()))
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("the stack has no load balancer service (a service whose image contains kontena/lb "
                            + "or whose environment has KONTENA_SERVICE_ROLE=lb)");
        }

        @Test
        void anUnknownNameIsAnError() {
            Stack stack = StackFile.parse(TWO_LBS, "kontena.yml");

            assertThatThrownBy(() -> Translator.translate(stack, Optional.of("nope")))
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("no service 'nope' in the stack; load balancer services: public, private");
            assertThatThrownBy(() -> Translator.translate(stack, Optional.of("web")))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("service 'web' is not a load balancer")
                    .hasMessageEndingWith("; load balancer services: public, private")
                    .hasMessageNotContaining("\n");
        }

        @Test
        void theStackNameMayPrefixTheName() {
            Stack stack = StackFile.parse("stack: acme/shop\nservices:\n" + TWO_LBS.indent(2), "kontena.yml");

            assertThat(Translator.translate(stack, Optional.of("shop/public")).http())
                    .extracting(HttpService::name).containsExactly("web");
        }

        @Test
        void onlyTheFirstLinkedLoadBalancerCounts() {
            String yaml = TWO_LBS + """
                    both:
                      image: app
                      links: [db, private, public]
                      environment: [KONTENA_LB_MODE=tcp, KONTENA_LB_EXTERNAL_PORT=6000]
                      upstreams: [10.0.0.1]
                    """;
            Stack stack = StackFile.parse(yaml, "kontena.yml");

            assertThat(Translator.translate(stack, Optional.of("public")).tcp()).isEmpty();
            assertThat(Translator.translate(stack, Optional.of("private")).tcp())
                    .extracting(TcpService::name).containsExactly("both", "db");
        }

        @Test
        void aStackQualifiedLinkMatchesByName() {
            LbConfig config = translate(LB + "web:\n  image: app\n  links: [shop/lb]\n");

            assertThat(onlyHttp(config).name()).isEqualTo("web");
        }
    }

    @Nested
    class Defaults {
        @Test
        void aLinkedServiceWithoutVariablesIsHttpOnPort80ForEveryPath() {
            LbConfig config = translate(LB + service("web", "-", "10.0.0.1", "10.0.0.2:8080"));

            assertThat(config.httpPort()).contains(80);
            assertThat(onlyHttp(config)).isEqualTo(new HttpService("web", Balance.ROUND_ROBIN, List.of(),
                    List.of("/"), false, false,
                    List.of(new Upstream("10.0.0.1", 80), new Upstream("10.0.0.2", 8080)),
                    Timeouts.DEFAULTS, HeaderRules.NONE));
        }

        @Test
        void tcpDefaultsToExternalPort5000() {
            LbConfig config = translate(LB + service("db", "KONTENA_LB_MODE=tcp", "-", "10.0.0.1"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.tcp()).containsExactly(new TcpService("db", Balance.ROUND_ROBIN, 5000,
                    List.of(new Upstream("10.0.0.1", 80)), Timeouts.DEFAULTS));
        }

        @Test
        void servicesOfAStackKeepTheirPlainNames() {
            LbConfig config = translate("stack: acme/shop\nservices:\n" + (LB + service("web")).indent(2));

            assertThat(onlyHttp(config).name()).isEqualTo("web");
        }

        @Test
        void servicesComeOutSortedByName() {
            LbConfig config = translate(LB + service("zeta") + service("alpha") + service("mid",
                    "KONTENA_LB_VIRTUAL_HOSTS=mid.example.com"));

            assertThat(config.http()).extracting(HttpService::name).containsExactly("alpha", "mid", "zeta");
        }

        @Test
        void servicesNotLinkedToTheLoadBalancerAreNotBalanced() {
            LbConfig config = translate(LB + "db:\n  image: mysql\n" + service("web"));

            assertThat(config.http()).extracting(HttpService::name).containsExactly("web");
            assertThat(config.problems()).isEmpty();
        }
    }

    @Nested
    class Variables {
        @ParameterizedTest
        @CsvSource({"http, false", "HTTP, false", "tcp, true", " Tcp , true"})
        void mode(String mode, boolean tcp) {
            LbConfig config = translate(LB + service("svc", "KONTENA_LB_MODE=" + mode, "-", "10.0.0.1"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.tcp()).hasSize(tcp ? 1 : 0);
            assertThat(config.http()).hasSize(tcp ? 0 : 1);
        }

        @Test
        void badMode() {
            LbConfig config = translate(LB + service("svc", "KONTENA_LB_MODE=udp"));

            assertThat(config.http()).isEmpty();
            assertThat(config.httpPort()).isEmpty();
            assertProblem(onlyProblem(config), "svc", "KONTENA_LB_MODE", "udp", "unknown mode", "http or tcp");
        }

        @ParameterizedTest
        @CsvSource({"roundrobin, ROUND_ROBIN", "source, SOURCE", "leastconn, LEAST_CONN", "leastcon, LEAST_CONN",
                "LeastConn, LEAST_CONN"})
        void balance(String value, Balance balance) {
            assertThat(onlyHttp(translate(LB + service("web", "KONTENA_LB_BALANCE=" + value))).balance())
                    .isEqualTo(balance);
        }

        @Test
        void unknownBalance() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_BALANCE=random"));

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "KONTENA_LB_BALANCE", "random",
                    "unknown balance", "roundrobin, source or leastconn");
        }

        @Test
        void internalPortIsTheUpstreamsDefaultPort() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_INTERNAL_PORT=8080",
                    "-", "10.0.0.1", "10.0.0.2:9090", "[fd00::1]"));

            assertThat(onlyHttp(config).upstreams()).containsExactly(
                    new Upstream("10.0.0.1", 8080), new Upstream("10.0.0.2", 9090), new Upstream("fd00::1", 8080));
        }

        @ParameterizedTest
        @ValueSource(strings = {"0", "65536", "http", "", "80.0", "-1"})
        void badPorts(String port) {
            LbConfig internal = translate(LB + service("web", "KONTENA_LB_INTERNAL_PORT=" + port));
            LbConfig external = translate(LB + service("db", "KONTENA_LB_MODE=tcp",
                    "KONTENA_LB_EXTERNAL_PORT=" + port, "-", "10.0.0.1"));

            assertThat(internal.http()).isEmpty();
            assertProblem(onlyProblem(internal), "web", "KONTENA_LB_INTERNAL_PORT", port,
                    "not a port", "whole number from 1 to 65535");
            assertThat(external.tcp()).isEmpty();
            assertProblem(onlyProblem(external), "db", "KONTENA_LB_EXTERNAL_PORT", port,
                    "not a port", "whole number from 1 to 65535");
        }

        @Test
        void externalPortIsWhereTcpListens() {
            LbConfig config = translate(LB + service("db", "KONTENA_LB_MODE=tcp", "KONTENA_LB_EXTERNAL_PORT=3306",
                    "KONTENA_LB_INTERNAL_PORT=3307", "-", "10.0.0.1"));

            assertThat(config.tcp()).containsExactly(new TcpService("db", Balance.ROUND_ROBIN, 3306,
                    List.of(new Upstream("10.0.0.1", 3307)), Timeouts.DEFAULTS));
        }

        @Test
        void virtualHostsAreLowerCasedWithWildcards() {
            HttpService web = onlyHttp(translate(LB + service("web",
                    "KONTENA_LB_VIRTUAL_HOSTS= WWW.Example.com, *.example.org,,www.example.com,")));

            assertThat(web.virtualHosts()).containsExactly("www.example.com", "*.example.org");
            assertThat(web.virtualPaths()).isEmpty();
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "example.com:8080 | 'example.com:8080': give the host name without a port",
                "www.*.example.com | 'www.*.example.com': a wildcard is allowed only as the whole first label",
                "a.com b.com | 'a.com b.com': a host name has no spaces",
                "exa_mple!.com | 'exa_mple!.com': expected a host name such as www.example.com",
        })
        void malformedVirtualHost(String host, String message) {
            String value = "good.example.com," + host;
            LbConfig config = translate(LB + service("web", "KONTENA_LB_VIRTUAL_HOSTS=" + value));

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "KONTENA_LB_VIRTUAL_HOSTS", value, message);
        }

        @Test
        void virtualPathsLoseTheirTrailingSlash() {
            HttpService web = onlyHttp(translate(LB + service("web", "KONTENA_LB_VIRTUAL_PATH=/api/, /v2,/")));

            assertThat(web.virtualPaths()).containsExactly("/api", "/v2", "/");
            assertThat(web.virtualHosts()).isEmpty();
        }

        @Test
        void hostsAndPathsTogether() {
            HttpService web = onlyHttp(translate(LB + service("web",
                    "KONTENA_LB_VIRTUAL_HOSTS=api.example.com", "KONTENA_LB_VIRTUAL_PATH=/v1")));

            assertThat(web.virtualHosts()).containsExactly("api.example.com");
            assertThat(web.virtualPaths()).containsExactly("/v1");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "api | 'api': a path prefix starts with '/'",
                "/api?x=1 | '/api?x=1': a path prefix has no query (?) or fragment (#)",
                "/a b | '/a b': a path prefix has no spaces",
        })
        void malformedVirtualPath(String path, String message) {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_VIRTUAL_PATH=" + path));

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "KONTENA_LB_VIRTUAL_PATH", path, message);
        }

        @ParameterizedTest
        @CsvSource({"true, true", "TRUE, true", "false, false"})
        void keepVirtualPath(String value, boolean keep) {
            assertThat(onlyHttp(translate(LB + service("web", "KONTENA_LB_VIRTUAL_PATH=/api",
                    "KONTENA_LB_KEEP_VIRTUAL_PATH=" + value))).keepVirtualPath()).isEqualTo(keep);
        }

        @Test
        void keepVirtualPathIsABoolean() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_KEEP_VIRTUAL_PATH=yes"));

            assertProblem(onlyProblem(config), "web", "KONTENA_LB_KEEP_VIRTUAL_PATH", "yes", "expected true or false");
        }

        @Test
        void defaultService() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_DEFAULT_SERVICE=true")
                    + service("api", "KONTENA_LB_VIRTUAL_PATH=/api", "KONTENA_LB_DEFAULT_SERVICE=false"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.http()).extracting(HttpService::name, HttpService::defaultService)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("api", false),
                            org.assertj.core.groups.Tuple.tuple("web", true));
        }

        @Test
        void onlyOneDefaultServiceTheLaterByNameIsRefused() {
            LbConfig config = translate(LB + service("zed", "KONTENA_LB_DEFAULT_SERVICE=true")
                    + service("abc", "KONTENA_LB_VIRTUAL_PATH=/a", "KONTENA_LB_DEFAULT_SERVICE=true"));

            assertThat(config.http()).extracting(HttpService::name).containsExactly("abc");
            assertProblem(onlyProblem(config), "zed", "KONTENA_LB_DEFAULT_SERVICE", "true",
                    "service 'abc' is already the default service", "only one");
        }

        @Test
        void httpVariablesOnTcpAreProblems() {
            LbConfig config = translate(LB + service("db", "KONTENA_LB_MODE=tcp",
                    "KONTENA_LB_VIRTUAL_HOSTS=db.example.com", "KONTENA_LB_VIRTUAL_PATH=/db",
                    "KONTENA_LB_KEEP_VIRTUAL_PATH=true", "KONTENA_LB_DEFAULT_SERVICE=true", "-", "10.0.0.1"));

            assertThat(config.tcp()).isEmpty();
            assertThat(config.problems()).extracting(Problem::key).containsExactly("KONTENA_LB_VIRTUAL_HOSTS",
                    "KONTENA_LB_VIRTUAL_PATH", "KONTENA_LB_KEEP_VIRTUAL_PATH", "KONTENA_LB_DEFAULT_SERVICE");
            assertProblem(config.problems().get(0), "db", "KONTENA_LB_VIRTUAL_HOSTS", "db.example.com",
                    "applies only to KONTENA_LB_MODE=http", "KONTENA_LB_EXTERNAL_PORT");
        }

        @Test
        void externalPortOnHttpIsAProblem() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_EXTERNAL_PORT=8080"));

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "KONTENA_LB_EXTERNAL_PORT", "8080",
                    "applies only to KONTENA_LB_MODE=tcp", "KONTENA_LB_VIRTUAL_HOSTS");
        }

        @Test
        void unknownVariableSuggestsTheClosest() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_VIRTUAL_HOST=www.example.com"));

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "KONTENA_LB_VIRTUAL_HOST", "www.example.com",
                    "unknown variable; did you mean KONTENA_LB_VIRTUAL_HOSTS?", "Valid names: KONTENA_LB_MODE, ");
        }

        @Test
        void unknownVariableWithNothingClose() {
            Problem problem = onlyProblem(translate(LB + service("web", "KONTENA_LB_SPEED=fast")));

            assertProblem(problem, "web", "KONTENA_LB_SPEED", "fast", "unknown variable. Valid names: "
                    + String.join(", ", ServiceVariables.VALID));
        }

        @Test
        void variableNamesAreCaseSensitive() {
            Problem problem = onlyProblem(translate(LB + service("web", "kontena_lb_mode=http")));

            assertProblem(problem, "web", "kontena_lb_mode", "http", "did you mean KONTENA_LB_MODE?");
        }

        @Test
        void loadBalancerVariablesOnABalancedService() {
            Problem problem = onlyProblem(translate(LB + service("web", "KONTENA_LB_HEALTH_URI=/health")));

            assertProblem(problem, "web", "KONTENA_LB_HEALTH_URI", "/health", "load balancer service itself");
        }

        @Test
        void anEmptyCookieVariableIsKontenasDefaultStickySession() {
            HttpService web = onlyHttp(translate(LB + service("web", "KONTENA_LB_COOKIE=")));

            assertThat(web.stickyCookie()).contains(io.kontena.lb.config.StickyCookie.DEFAULT);
            assertThat(translate(LB + service("web", "KONTENA_LB_COOKIE=x")).problems()).singleElement()
                    .satisfies(p -> assertProblem(p, "web", "KONTENA_LB_COOKIE", "x", "expected empty"));
        }

        @Test
        void customSettingsReachTheService() {
            HttpService web = onlyHttp(translate(LB + service("web", "KONTENA_LB_BALANCE=roundrobin",
                    "KONTENA_LB_CUSTOM_SETTINGS=balance source\ntimeout server 2m\n"
                            + "http-response set-header X-Frame-Options DENY\nredirect scheme https if !{ ssl_fc }")));

            assertThat(web.balance()).isEqualTo(Balance.SOURCE);
            assertThat(web.timeouts()).isEqualTo(Timeouts.DEFAULTS.withServer(Duration.ofMinutes(2)));
            assertThat(web.headers()).isEqualTo(new HeaderRules(List.of(),
                    List.of(new HeaderRule(HeaderRule.Action.SET, "X-Frame-Options", "DENY")), true));
        }

        @Test
        void customSettingsOfATcpService() {
            LbConfig config = translate(LB + service("db", "KONTENA_LB_MODE=tcp",
                    "KONTENA_LB_CUSTOM_SETTINGS=timeout tunnel 2h\nbalance leastconn", "-", "10.0.0.1"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.tcp().get(0).balance()).isEqualTo(Balance.LEAST_CONN);
            assertThat(config.tcp().get(0).timeouts().tunnel()).isEqualTo(Duration.ofHours(2));
        }

        @Test
        void aBadCustomSettingRejectsTheService() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_CUSTOM_SETTINGS=option httpchk"));

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "KONTENA_LB_CUSTOM_SETTINGS", "option httpchk",
                    "line 1: not supported; supported lines: timeout");
        }

        @Test
        void customSettingsFromAYamlBlock() {
            LbConfig config = translate(LB + """
                    web:
                      image: app
                      links: [lb]
                      environment:
                        KONTENA_LB_CUSTOM_SETTINGS: |
                          # slow backend
                          timeout server 5m
                    """);

            assertThat(onlyHttp(config).timeouts().server()).isEqualTo(Duration.ofMinutes(5));
        }

        @Test
        void malformedUpstreamEntry() {
            LbConfig config = translate(LB + service("web", "-", "10.0.0.1", "fd00::1", "host:99999"));

            assertThat(config.http()).isEmpty();
            assertThat(config.problems()).hasSize(2);
            assertProblem(config.problems().get(0), "web", "upstreams", "fd00::1",
                    "an IPv6 address goes in brackets");
            assertProblem(config.problems().get(1), "web", "upstreams", "host:99999",
                    "'99999' is not a port", "1 to 65535");
        }

        @Test
        void everyProblemOfAServiceIsReportedAtOnce() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_BALANCE=fast",
                    "KONTENA_LB_INTERNAL_PORT=x", "KONTENA_LB_VIRTUAL_PATH=api", "KONTENA_LB_FOO=1"));

            assertThat(config.problems()).extracting(Problem::key).containsExactly("KONTENA_LB_BALANCE",
                    "KONTENA_LB_INTERNAL_PORT", "KONTENA_LB_VIRTUAL_PATH", "KONTENA_LB_FOO");
        }
    }

    @Nested
    class Links {
        @Test
        void variablesWithoutALinkToALoadBalancer() {
            LbConfig config = translate(LB + """
                    web:
                      image: nginx
                      links: [db]
                      environment: [KONTENA_LB_VIRTUAL_HOSTS=example.com]
                    db:
                      image: mysql
                    """);

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "links", "db",
                    "KONTENA_LB_* variables but links to no load balancer", "do nothing",
                    "'db' is not a load balancer (a service whose image contains kontena/lb", "links: lb");
        }

        @Test
        void variablesOfTheLoadBalancerThatItDoesNotActOnAreProblems() {
            LbConfig config = translate("""
                    lb:
                      image: kontena/lb:latest
                      environment:
                        KONTENA_LB_GLOBAL_SETTINGS: maxconn 4096
                        KONTENA_LB_VIRTUAL_HOSTS: example.com
                        KONTENA_LB_ssl_ciphers: ECDHE-RSA-AES128-GCM-SHA256
                        KONTENA_LB_STATS: "on"
                        KONTENA_LB_HTTP2: "false"
                    """ + service("web"));

            assertThat(config.http()).extracting(HttpService::name).containsExactly("web");
            assertThat(config.problems()).hasSize(4);
            assertProblem(config.problems().get(0), "lb", "KONTENA_LB_VIRTUAL_HOSTS", "example.com",
                    "a variable of a balanced service", "services that link to lb");
            assertProblem(config.problems().get(1), "lb", "KONTENA_LB_ssl_ciphers", "ECDHE-RSA-AES128-GCM-SHA256",
                    "case-sensitive; did you mean KONTENA_LB_SSL_CIPHERS?");
            assertProblem(config.problems().get(2), "lb", "KONTENA_LB_STATS", "on", "unknown variable",
                    "KONTENA_LB_ACCEPT_PROXY, KONTENA_LB_CUSTOM_SETTINGS, KONTENA_LB_DEFAULT_CERT, "
                            + "KONTENA_LB_GLOBAL_SETTINGS, KONTENA_LB_HEALTH_URI, KONTENA_LB_HTTP2, KONTENA_LB_SSL_CIPHERS");
            // a global line it does not act on
            assertProblem(config.problems().get(3), "lb", "KONTENA_LB_GLOBAL_SETTINGS", "maxconn 4096",
                    "run --max-connections N");
        }

        @Test
        void aLinkToAnotherStacksLoadBalancerIsNoneOfThisOnesBusiness() {
            LbConfig config = translate("stack: shop\nservices:\n" + (LB + """
                    web:
                      image: nginx
                      links: [other/lb]
                      environment: [KONTENA_LB_VIRTUAL_HOSTS=example.com]
                    api:
                      image: nginx
                      links: [shop/lb]
                      environment: [KONTENA_LB_VIRTUAL_PATH=/api]
                    """).indent(2));

            assertThat(config.problems()).isEmpty();
            assertThat(config.http()).extracting(HttpService::name).containsExactly("api");
        }

        @Test
        void aServiceWithoutVariablesOrLinkIsNoProblem() {
            assertThat(translate(LB + "db:\n  image: mysql\n").problems()).isEmpty();
        }

        @Test
        void aLinkToAMissingServiceSuggestsTheClosest() {
            LbConfig config = translate(LB + """
                    web:
                      image: nginx
                      links: [lbb]
                      environment: [KONTENA_LB_VIRTUAL_HOSTS=example.com]
                    """);

            assertThat(config.problems()).hasSize(2);
            assertProblem(config.problems().get(0), "web", "links", "lbb",
                    "no service 'lbb' in this stack", "did you mean 'lb'?");
            assertProblem(config.problems().get(1), "web", "links", "lbb", "links to no load balancer");
        }

        @Test
        void aBalancedServiceWithAMissingLinkIsRejected() {
            LbConfig config = translate(LB + """
                    web:
                      image: nginx
                      links: [lb, zzzzzz]
                      environment: [KONTENA_LB_VIRTUAL_HOSTS=example.com]
                    """);

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "links", "zzzzzz",
                    "no service 'zzzzzz' in this stack; its services are: lb, web");
        }

        @Test
        void linksIntoOtherStacksAreNotChecked() {
            LbConfig config = translate("stack: shop\nservices:\n" + (LB + """
                    web:
                      image: nginx
                      links: [lb, other/cache, shop/db]
                      environment: [KONTENA_LB_VIRTUAL_HOSTS=example.com]
                    """).indent(2));

            assertThat(config.http()).isEmpty();
            assertProblem(onlyProblem(config), "web", "links", "shop/db", "no service 'db' in this stack");
        }
    }

    @Nested
    class Ports {
        @Test
        void publishedHttpPort() {
            LbConfig config = translate("lb:\n  image: kontena/lb\n  ports: ['8080:80', '8443:443']\n"
                    + service("web"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.httpPort()).contains(8080);
        }

        @Test
        void anyFreePort() {
            LbConfig config = translate("lb:\n  image: kontena/lb\n  ports: ['0:80', '0:5000']\n"
                    + service("db", "KONTENA_LB_MODE=tcp", "-", "10.0.0.1") + service("web"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.httpPort()).contains(0);
            assertThat(config.tcp().get(0).port()).isZero();
        }

        @Test
        void httpPortWhenPublishedEvenWithoutServices() {
            assertThat(translate("lb:\n  image: kontena/lb\n  ports: ['80:80']\n").httpPort()).contains(80);
            assertThat(translate("lb:\n  image: kontena/lb\n  ports: ['81:80']\n").httpPort()).contains(81);
            assertThat(translate(LB).httpPort()).isEmpty();
        }

        @Test
        void noHttpPortWhenEveryHttpServiceIsRejected() {
            LbConfig config = translate(LB + service("web", "KONTENA_LB_BALANCE=x"));

            assertThat(config.httpPort()).isEmpty();
        }

        @Test
        void tcpPortThroughTheMapping() {
            LbConfig config = translate("lb:\n  image: kontena/lb\n  ports: ['13306:3306']\n" + service("db",
                    "KONTENA_LB_MODE=tcp", "KONTENA_LB_EXTERNAL_PORT=3306", "-", "10.0.0.1")
                    + service("cache", "KONTENA_LB_MODE=tcp", "KONTENA_LB_EXTERNAL_PORT=6379", "-", "10.0.0.2"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.tcp()).extracting(TcpService::name, TcpService::port).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("cache", 6379),
                    org.assertj.core.groups.Tuple.tuple("db", 13306));
            assertThat(config.httpPort()).isEmpty();
        }

        @Test
        void twoTcpServicesOnOnePortTheLaterByNameIsRefused() {
            LbConfig config = translate(LB
                    + service("b", "KONTENA_LB_MODE=tcp", "KONTENA_LB_EXTERNAL_PORT=3306", "-", "10.0.0.1")
                    + service("a", "KONTENA_LB_MODE=tcp", "KONTENA_LB_EXTERNAL_PORT=3306", "-", "10.0.0.2"));

            assertThat(config.tcp()).extracting(TcpService::name).containsExactly("a");
            assertProblem(onlyProblem(config), "b", "KONTENA_LB_EXTERNAL_PORT", "3306",
                    "port 3306 is already the port of TCP service 'a'", "a port of its own");
        }

        @Test
        void twoTcpServicesOnTheDefaultPort() {
            LbConfig config = translate(LB + service("a", "KONTENA_LB_MODE=tcp", "-", "10.0.0.1")
                    + service("b", "KONTENA_LB_MODE=tcp", "-", "10.0.0.2"));

            assertProblem(onlyProblem(config), "b", "KONTENA_LB_EXTERNAL_PORT", "",
                    "the default external port 5000: port 5000 is already the port of TCP service 'a'");
        }

        @ParameterizedTest
        @CsvSource({"80, the HTTP port", "443, the HTTPS port"})
        void tcpOnAnHttpPort(int port, String owner) {
            LbConfig config = translate(LB + service("db", "KONTENA_LB_MODE=tcp",
                    "KONTENA_LB_EXTERNAL_PORT=" + port, "-", "10.0.0.1"));

            assertThat(config.tcp()).isEmpty();
            assertProblem(onlyProblem(config), "db", "KONTENA_LB_EXTERNAL_PORT", String.valueOf(port),
                    "port " + port + " is already " + owner);
        }

        @Test
        void tcpOnTheHostPortHttpIsPublishedOn() {
            LbConfig config = translate("lb:\n  image: kontena/lb\n  ports: ['5000:80']\n"
                    + service("db", "KONTENA_LB_MODE=tcp", "-", "10.0.0.1"));

            assertThat(config.tcp()).isEmpty();
            assertProblem(onlyProblem(config), "db", "KONTENA_LB_EXTERNAL_PORT", "",
                    "port 5000 listens on host port 5000, which port 80 (published on 5000 by ports: 5000:80) "
                            + "already uses as the HTTP port");
        }

        @Test
        void aRejectedTcpServiceStillHoldsItsPort() {
            LbConfig config = translate(LB + service("a", "KONTENA_LB_MODE=tcp", "KONTENA_LB_BALANCE=x")
                    + service("b", "KONTENA_LB_MODE=tcp", "-", "10.0.0.2"));

            assertThat(config.tcp()).isEmpty();
            assertThat(config.problems()).extracting(Problem::subject, Problem::key).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("a", "KONTENA_LB_BALANCE"),
                    org.assertj.core.groups.Tuple.tuple("a", "upstreams"),
                    org.assertj.core.groups.Tuple.tuple("b", "KONTENA_LB_EXTERNAL_PORT"));
        }

        @Test
        void badLoadBalancerPortEntriesAreLeftOut() {
            LbConfig config = translate("""
                    lb:
                      image: kontena/lb
                      ports:
                        - 8080:80
                        - 8081:80
                        - 8080:5000
                        - 53:53/udp
                        - 127.0.0.1:9000:80
                        - 0.0.0.0:8443:443
                    """ + service("web"));

            assertThat(config.httpPort()).contains(8080);
            assertThat(config.http()).hasSize(1);
            assertThat(config.problems()).hasSize(4);
            assertProblem(config.problems().get(0), "lb", "ports", "8081:80",
                    "container port 80 is already published by 8080:80");
            assertProblem(config.problems().get(1), "lb", "ports", "8080:5000",
                    "host port 8080 is already used by 8080:80");
            assertProblem(config.problems().get(2), "lb", "ports", "53:53/udp", "UDP is not supported");
            assertProblem(config.problems().get(3), "lb", "ports", "127.0.0.1:9000:80",
                    "publishing on one address is not supported");
        }
    }

    @Nested
    class TcpTls {
        private final String lbWithCertificate = LB + "  environment:\n    SSL_CERTS: |\n"
                + io.kontena.lb.testing.TestCertificates.cert("db.example.com").build().bundle().indent(6);

        @Test
        void terminateUsesTheLoadBalancersCertificates() {
            LbConfig config = translate(lbWithCertificate
                    + service("db", "KONTENA_LB_MODE=tcp", "KONTENA_LB_TLS=terminate", "-", "10.0.0.1:5432"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.tcp()).containsExactly(new TcpService("db", Balance.ROUND_ROBIN, 5000,
                    List.of(new Upstream("10.0.0.1", 5432)), Timeouts.DEFAULTS, true));
            assertThat(config.https()).isPresent();
        }

        @Test
        void passthroughIsTheDefaultAndCanBeSaid() {
            LbConfig config = translate(LB + service("db", "KONTENA_LB_MODE=tcp", "KONTENA_LB_TLS=Passthrough",
                    "-", "10.0.0.1"));

            assertThat(config.problems()).isEmpty();
            assertThat(config.tcp()).extracting(TcpService::terminateTls).containsExactly(false);
        }

        @Test
        void terminateWithoutACertificateIsAProblemThatSaysWhatToGive() {
            LbConfig config = translate(LB + service("db", "KONTENA_LB_MODE=tcp", "KONTENA_LB_TLS=terminate",
                    "-", "10.0.0.1"));

            assertThat(config.tcp()).isEmpty();
            assertProblem(onlyProblem(config), "db", "KONTENA_LB_TLS", "terminate",
                    "no valid certificate", "SSL_CERTS", "SSL_CERT_<name>", "KONTENA_LB_TLS=passthrough");
        }

        @Test
        void anUnknownValueNamesTheValidOnes() {
            LbConfig config = translate(lbWithCertificate
                    + service("db", "KONTENA_LB_MODE=tcp", "KONTENA_LB_TLS=on", "-", "10.0.0.1"));

            assertProblem(onlyProblem(config), "db", "KONTENA_LB_TLS", "on", "expected terminate", "passthrough");
        }

        @Test
        void httpServicesGetTlsFromTheHttpsListenerInstead() {
            LbConfig config = translate(lbWithCertificate + service("web", "KONTENA_LB_TLS=terminate"));

            assertProblem(onlyProblem(config), "web", "KONTENA_LB_TLS", "terminate",
                    "applies only to KONTENA_LB_MODE=tcp", "HTTPS port (443)");
        }
    }

    @Nested
    class Output {
        static final String MESSY = LB + service("web", "KONTENA_LB_MODE=x") + service("api", "KONTENA_LB_FOO=1")
                + service("db", "KONTENA_LB_MODE=tcp") + service("ok") + """
                lost:
                  image: x
                  environment: [KONTENA_LB_MODE=http]
                """;

        @Test
        void problemsInAStableOrderAndTheRestStays() {
            LbConfig config = translate(MESSY);

            assertThat(config.http()).extracting(HttpService::name).containsExactly("ok");
            assertThat(config.problems()).extracting(Problem::subject)
                    .containsExactly("api", "db", "lost", "web");
            assertThat(config.isValid()).isFalse();
        }

        @Test
        void sameInputSameOutput() {
            assertThat(translate(MESSY)).isEqualTo(translate(MESSY));
        }

        @Test
        void problemsReadAsOneLine() {
            assertThat(translate(MESSY).problems().get(0).toString()).isEqualTo("api: KONTENA_LB_FOO=1: unknown "
                    + "variable. Valid names: " + String.join(", ", ServiceVariables.VALID));
        }
    }
}
