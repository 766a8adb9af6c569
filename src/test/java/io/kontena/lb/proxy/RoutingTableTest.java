package io.kontena.lb.proxy;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class RoutingTableTest {

    static HttpService service(String name, List<String> hosts, List<String> paths) {
        return new HttpService(name, Balance.ROUND_ROBIN, hosts, paths, false, false, List.of(),
                Timeouts.DEFAULTS, HeaderRules.NONE);
    }

    static HttpService keeping(String name, List<String> hosts, List<String> paths) {
        return new HttpService(name, Balance.ROUND_ROBIN, hosts, paths, true, false, List.of(),
                Timeouts.DEFAULTS, HeaderRules.NONE);
    }

    static HttpService fallback(String name) {
        return new HttpService(name, Balance.ROUND_ROBIN, List.of(), List.of(), false, true, List.of(),
                Timeouts.DEFAULTS, HeaderRules.NONE);
    }

    static RoutingTable<String> table(HttpService... services) {
        return RoutingTable.build(List.of(services), HttpService::name);
    }

    static String target(RoutingTable<String> t, String host, String uri) {
        Route<String> r = t.route(host, uri);
        return r == null ? null : r.target();
    }

    @Nested
    class Paths {
        final RoutingTable<String> t = table(
                service("api", List.of(), List.of("/api")),
                service("v2", List.of(), List.of("/api/v2")),
                service("web", List.of(), List.of("/")));

        @Test
        void matchWholeSegmentsOnly() {
            assertThat(target(t, null, "/api")).isEqualTo("api");
            assertThat(target(t, null, "/api/")).isEqualTo("api");
            assertThat(target(t, null, "/api/x/y")).isEqualTo("api");
            assertThat(target(t, null, "/api?q=1")).isEqualTo("api");
            assertThat(target(t, null, "/apifoo")).isEqualTo("web");
            assertThat(target(t, null, "/ap")).isEqualTo("web");
        }

        @Test
        void longestPrefixWinsWhateverTheOrder() {
            assertThat(target(t, null, "/api/v2")).isEqualTo("v2");
            assertThat(target(t, null, "/api/v2/users?x=/api")).isEqualTo("v2");
            assertThat(target(t, null, "/api/v2x")).isEqualTo("api");
            assertThat(target(t, null, "/api/v3")).isEqualTo("api");
        }

        @Test
        void rootCatchesEverythingElse() {
            assertThat(target(t, null, "/")).isEqualTo("web");
            assertThat(target(t, null, "/other/deep/path")).isEqualTo("web");
            assertThat(target(t, "any.host", "/x")).isEqualTo("web");
            assertThat(target(t, null, "*")).isEqualTo("web");
        }

        @Test
        void areCaseSensitive() {
            assertThat(target(t, null, "/API")).isEqualTo("web");
        }

        @Test
        void withoutRootNothingElseMatches() {
            RoutingTable<String> noRoot = table(service("api", List.of(), List.of("/api")));
            assertThat(noRoot.route(null, "/apifoo")).isNull();
            assertThat(noRoot.route(null, "/")).isNull();
            assertThat(target(noRoot, null, "/api/z")).isEqualTo("api");
        }

        @Test
        void configuredPrefixesAreNormalised() {
            RoutingTable<String> n = table(service("a", List.of(), List.of("/a/")), service("b", List.of(), List.of("b")));
            assertThat(target(n, null, "/a")).isEqualTo("a");
            assertThat(target(n, null, "/a/x")).isEqualTo("a");
            assertThat(target(n, null, "/b/x")).isEqualTo("b");
        }

        @Test
        void deepPrefixes() {
            RoutingTable<String> d = table(
                    service("shallow", List.of(), List.of("/a")),
                    service("deep", List.of(), List.of("/a/b/c/d/e")),
                    service("middle", List.of(), List.of("/a/b/c")));
            assertThat(target(d, null, "/a/b/c/d/e/f/g")).isEqualTo("deep");
            assertThat(target(d, null, "/a/b/c/d/x")).isEqualTo("middle");
            assertThat(target(d, null, "/a/b/cc")).isEqualTo("shallow");
            assertThat(target(d, null, "/a/b")).isEqualTo("shallow");
        }
    }

    @Nested
    class Hosts {
        final RoutingTable<String> t = table(
                service("exact", List.of("www.example.com"), List.of()),
                service("wild", List.of("*.example.com"), List.of()),
                service("deeper", List.of("*.eu.example.com"), List.of()),
                service("v6", List.of("::1"), List.of()));

        @Test
        void exactIgnoresCasePortAndTrailingDot() {
            assertThat(target(t, "www.example.com", "/")).isEqualTo("exact");
            assertThat(target(t, "WWW.Example.COM", "/")).isEqualTo("exact");
            assertThat(target(t, "www.example.com:8080", "/")).isEqualTo("exact");
            assertThat(target(t, "www.example.com.", "/")).isEqualTo("exact");
            assertThat(target(t, "www.example.com.:443", "/")).isEqualTo("exact");
            assertThat(target(t, " www.example.com ", "/")).isEqualTo("exact");
        }

        @Test
        void exactBeatsWildcard() {
            assertThat(target(t, "api.example.com", "/")).isEqualTo("wild");
            assertThat(target(t, "www.example.com", "/")).isEqualTo("exact");
        }

        @Test
        void wildcardNeedsASubdomain() {
            assertThat(t.route("example.com", "/")).isNull();
            assertThat(t.route("badexample.com", "/")).isNull();
            assertThat(target(t, "a.b.example.com", "/")).isEqualTo("wild");
        }

        @Test
        void longerWildcardSuffixWins() {
            assertThat(target(t, "x.eu.example.com", "/")).isEqualTo("deeper");
            assertThat(target(t, "y.x.eu.example.com", "/")).isEqualTo("deeper");
            assertThat(target(t, "eu.example.com", "/")).isEqualTo("wild");
        }

        @Test
        void wildcardOrderInConfigurationDoesNotMatter() {
            RoutingTable<String> r = table(
                    service("deeper", List.of("*.eu.example.com"), List.of()),
                    service("wild", List.of("*.example.com"), List.of()));
            assertThat(target(r, "x.eu.example.com", "/")).isEqualTo("deeper");
            assertThat(target(r, "x.us.example.com", "/")).isEqualTo("wild");
        }

        @Test
        void ipv6Literals() {
            assertThat(target(t, "[::1]:8080", "/")).isEqualTo("v6");
            assertThat(target(t, "[::1]", "/")).isEqualTo("v6");
            assertThat(t.route("[::2]:8080", "/")).isNull();
        }

        @Test
        void missingOrEmptyHostMatchesNoHostRule() {
            assertThat(t.route(null, "/")).isNull();
            assertThat(t.route("", "/")).isNull();
            assertThat(t.route(":80", "/")).isNull();
        }

        @Test
        void configuredHostsAreNormalised() {
            RoutingTable<String> n = table(service("a", List.of("Shop.Example.com."), List.of()));
            assertThat(target(n, "shop.example.com", "/")).isEqualTo("a");
        }
    }

    @Nested
    class Precedence {
        final RoutingTable<String> t = table(
                service("paths", List.of(), List.of("/api")),
                service("root", List.of(), List.of("/")),
                service("host", List.of("shop.example.com"), List.of()),
                service("hostAndPath", List.of("shop.example.com"), List.of("/api")),
                service("wildAndPath", List.of("*.example.com"), List.of("/admin")),
                service("wildHost", List.of("*.example.com"), List.of()),
                fallback("default"));

        @Test
        void hostAndPathBeforeHostBeforePath() {
            assertThat(target(t, "shop.example.com", "/api/x")).isEqualTo("hostAndPath");
            assertThat(target(t, "shop.example.com", "/other")).isEqualTo("host");
            assertThat(target(t, "other.org", "/api/x")).isEqualTo("paths");
            assertThat(target(t, "other.org", "/z")).isEqualTo("root");
        }

        @Test
        void aWildcardWithAMatchingPathBeatsAnExactHostWithout() {
            // Tier 1 (hosts and paths) is searched across all host keys before tier 2 (hosts only).
            assertThat(target(t, "shop.example.com", "/admin/users")).isEqualTo("wildAndPath");
        }

        @Test
        void mostSpecificHostKeyWithAMatchingPathWins() {
            RoutingTable<String> r = table(
                    service("wild", List.of("*.example.com"), List.of("/api/v1")),
                    service("exact", List.of("a.example.com"), List.of("/api")));
            // The exact host has a matching path, so its shorter prefix beats the wildcard's longer one.
            assertThat(target(r, "a.example.com", "/api/v1/x")).isEqualTo("exact");
            assertThat(target(r, "b.example.com", "/api/v1/x")).isEqualTo("wild");
            assertThat(r.route("b.example.com", "/api/x")).isNull();
        }

        @Test
        void amongWildcardsWithPathsTheLongestSuffixWithAMatchingPathWins() {
            RoutingTable<String> r = table(
                    service("short", List.of("*.example.com"), List.of("/api", "/img")),
                    service("long", List.of("*.eu.example.com"), List.of("/api")),
                    service("longHost", List.of("*.eu.example.com"), List.of()));
            assertThat(target(r, "x.eu.example.com", "/api/1")).isEqualTo("long");
            assertThat(target(r, "x.us.example.com", "/api/1")).isEqualTo("short");
            // The more specific wildcard has no /img, so the less specific one with /img wins over its host-only rule.
            assertThat(target(r, "x.eu.example.com", "/img/1")).isEqualTo("short");
            assertThat(target(r, "x.eu.example.com", "/other")).isEqualTo("longHost");
        }

        @Test
        void hostWithoutMatchingPathFallsToLaterTiers() {
            RoutingTable<String> r = table(
                    service("hostAndPath", List.of("a.example.com"), List.of("/api")),
                    service("paths", List.of(), List.of("/static")),
                    fallback("default"));
            assertThat(target(r, "a.example.com", "/static/x.css")).isEqualTo("paths");
            assertThat(target(r, "a.example.com", "/elsewhere")).isEqualTo("default");
        }

        @Test
        void defaultServiceAnswersOnlyWhatNothingElseMatches() {
            RoutingTable<String> r = table(
                    service("host", List.of("a.example.com"), List.of()),
                    fallback("default"));
            assertThat(target(r, "a.example.com", "/x")).isEqualTo("host");
            assertThat(target(r, "b.example.com", "/x")).isEqualTo("default");
            assertThat(target(r, null, "/")).isEqualTo("default");
        }

        @Test
        void defaultServiceWithRulesAlsoMatchesThem() {
            HttpService both = new HttpService("both", Balance.ROUND_ROBIN, List.of("b.example.com"), List.of(),
                    false, true, List.of(), Timeouts.DEFAULTS, HeaderRules.NONE);
            RoutingTable<String> r = table(service("a", List.of("a.example.com"), List.of()), both);
            assertThat(target(r, "b.example.com", "/")).isEqualTo("both");
            assertThat(target(r, "c.example.com", "/")).isEqualTo("both");
            assertThat(target(r, "a.example.com", "/")).isEqualTo("a");
        }

        @Test
        void serviceWithNeitherHostsNorPathsTakesRoot() {
            RoutingTable<String> r = table(service("api", List.of(), List.of("/api")), service("plain", List.of(), List.of()));
            assertThat(target(r, "x", "/anything")).isEqualTo("plain");
            assertThat(target(r, "x", "/api")).isEqualTo("api");
        }

        @Test
        void earlierServiceWinsAnExactTie() {
            RoutingTable<String> r = table(
                    service("first", List.of("a.example.com"), List.of("/api")),
                    service("second", List.of("a.example.com"), List.of("/api")));
            assertThat(target(r, "a.example.com", "/api")).isEqualTo("first");
        }

        @Test
        void emptyTableRoutesNothing() {
            assertThat(RoutingTable.<String>empty().route("a", "/")).isNull();
            assertThat(table().route("a", "/")).isNull();
        }
    }

    @Nested
    class AbsoluteForm {
        final RoutingTable<String> t = table(
                service("shop", List.of("shop.example.com"), List.of("/api")),
                service("other", List.of("other.example.com"), List.of()),
                service("paths", List.of(), List.of("/api")));

        @Test
        void routesByAuthorityAndPath() {
            assertThat(target(t, "other.example.com", "http://shop.example.com:8080/api/x?y=1")).isEqualTo("shop");
            assertThat(target(t, null, "HTTP://Shop.Example.com/api")).isEqualTo("shop");
            assertThat(target(t, null, "http://user@shop.example.com/api")).isEqualTo("shop");
            assertThat(target(t, null, "http://other.example.com")).isEqualTo("other");
            assertThat(target(t, null, "http://nobody.example.com/api/z")).isEqualTo("paths");
        }

        @Test
        void forwardsOriginForm() {
            Route<String> r = t.route(null, "http://shop.example.com:8080/api/x?y=1");
            assertThat(r.forwardUri("http://shop.example.com:8080/api/x?y=1")).isEqualTo("/x?y=1");
            Route<String> o = t.route(null, "http://other.example.com");
            assertThat(o.forwardUri("http://other.example.com")).isEqualTo("/");
            assertThat(o.forwardUri("http://other.example.com?q")).isEqualTo("/?q");
            assertThat(o.forwardUri("http://other.example.com/a/b?q")).isEqualTo("/a/b?q");
        }
    }

    @Nested
    class Forwarding {
        final RoutingTable<String> t = table(
                service("api", List.of(), List.of("/api")),
                keeping("kept", List.of(), List.of("/kept")),
                service("host", List.of("h.example.com"), List.of()),
                service("root", List.of(), List.of("/")));

        String forward(String host, String uri) {
            return t.route(host, uri).forwardUri(uri);
        }

        @Test
        void stripsTheMatchedPrefixAndKeepsTheQuery() {
            assertThat(forward(null, "/api/users?x=1")).isEqualTo("/users?x=1");
            assertThat(forward(null, "/api")).isEqualTo("/");
            assertThat(forward(null, "/api/")).isEqualTo("/");
            assertThat(forward(null, "/api?x")).isEqualTo("/?x");
            assertThat(forward(null, "/api/a/b/c?x=/api/d")).isEqualTo("/a/b/c?x=/api/d");
        }

        @Test
        void keepVirtualPathForwardsUnchanged() {
            String uri = "/kept/users?x=1";
            assertThat(forward(null, uri)).isSameAs(uri);
        }

        @Test
        void rootAndHostRoutesForwardUnchanged() {
            String uri = "/some/path?q";
            assertThat(forward(null, uri)).isSameAs(uri);
            assertThat(forward("h.example.com", "/api/x")).isEqualTo("/api/x");
        }

        @Test
        void exposesServiceAndPrefix() {
            Route<String> r = t.route(null, "/api/x");
            assertThat(r.service().name()).isEqualTo("api");
            assertThat(r.prefix()).isEqualTo("/api");
            assertThat(t.route("h.example.com", "/").prefix()).isEmpty();
        }
    }

    @Test
    void routesAreBuiltOncePerServiceAndPrefixAndTargetsOncePerService() {
        AtomicInteger calls = new AtomicInteger();
        List<HttpService> services = List.of(
                service("a", List.of("a.example.com", "b.example.com", "*.c.example.com"), List.of("/x", "/y")),
                service("b", List.of(), List.of("/z")));
        RoutingTable<Object> t = RoutingTable.build(services, s -> {
            calls.incrementAndGet();
            return new Object();
        });
        assertThat(calls).hasValue(2);
        assertThat(t.route("a.example.com", "/x/1")).isSameAs(t.route("b.example.com", "/x/2"))
                .isSameAs(t.route("q.c.example.com", "/x"));
        assertThat(t.route("a.example.com", "/x").target()).isSameAs(t.route("a.example.com", "/y").target());
        assertThat(t.route("a.example.com", "/x")).isNotSameAs(t.route("a.example.com", "/y"));
    }

    @Test
    void tenThousandHosts() {
        List<HttpService> services = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            services.add(service("s" + i, List.of("host" + i + ".example.com", "*.w" + i + ".example.org"),
                    List.of()));
        }
        RoutingTable<String> t = RoutingTable.build(services, HttpService::name);
        for (int i = 0; i < 10_000; i += 7) {
            assertThat(target(t, "HOST" + i + ".example.com:80", "/")).isEqualTo("s" + i);
            assertThat(target(t, "x.w" + i + ".example.org", "/")).isEqualTo("s" + i);
        }
        assertThat(t.route("host10000.example.com", "/")).isNull();
    }
}
