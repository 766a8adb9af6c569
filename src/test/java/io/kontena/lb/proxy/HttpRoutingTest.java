package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.at;
import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Which service answers a request, and the path it sees, over real sockets. */
class HttpRoutingTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private RawHttp.Response get(String host, String path) throws Exception {
        return RawHttp.get(lb.httpPort(), host, path);
    }

    @Test
    void hostAndPathBeatHostWhichBeatsPathWhichBeatsTheDefault() throws Exception {
        WhoAmI hostPath = lb.whoami("host-path");
        WhoAmI hostOnly = lb.whoami("host-only");
        WhoAmI pathOnly = lb.whoami("path-only");
        WhoAmI fallback = lb.whoami("fallback");
        lb.serve(List.of(
                // listed in the reverse of their precedence, so order of declaration cannot be what decides
                http("fallback", List.of(), List.of(), false, true, List.of(at(fallback))),
                http("path-only", List.of(), List.of("/api"), false, false, List.of(at(pathOnly))),
                http("host-only", List.of("www.example.com"), List.of(), false, false, List.of(at(hostOnly))),
                http("host-path", List.of("www.example.com"), List.of("/api"), false, false, List.of(at(hostPath)))),
                List.of());

        assertThat(get("www.example.com", "/api/users").instance()).isEqualTo("host-path");
        assertThat(get("www.example.com", "/other").instance()).isEqualTo("host-only");
        assertThat(get("other.example.com", "/api/users").instance()).isEqualTo("path-only");
        assertThat(get("other.example.com", "/other").instance()).isEqualTo("fallback");
        // a default service also takes what a host-only service does not match on other hosts
        assertThat(get("www.example.org", "/").instance()).isEqualTo("fallback");
    }

    @Test
    void pathsMatchWholeSegmentsAndTheLongestPrefixWins() throws Exception {
        WhoAmI api = lb.whoami("api");
        WhoAmI users = lb.whoami("users");
        WhoAmI root = lb.whoami("root");
        lb.serve(List.of(
                http("root", List.of(), List.of("/"), false, false, List.of(at(root))),
                http("api", List.of(), List.of("/api"), false, false, List.of(at(api))),
                http("users", List.of(), List.of("/api/users"), false, false, List.of(at(users)))),
                List.of());

        assertThat(get("x", "/api").instance()).isEqualTo("api");
        assertThat(get("x", "/api/").instance()).isEqualTo("api");
        assertThat(get("x", "/api?q=1").instance()).isEqualTo("api");
        assertThat(get("x", "/api/orders/1").instance()).isEqualTo("api");
        assertThat(get("x", "/api/users").instance()).isEqualTo("users");
        assertThat(get("x", "/api/users/7").instance()).isEqualTo("users");
        assertThat(get("x", "/api/usersfoo").instance()).isEqualTo("api");
        assertThat(get("x", "/apifoo").instance()).isEqualTo("root");
        assertThat(get("x", "/").instance()).isEqualTo("root");
    }

    @Test
    void prefixIsStrippedAndTheQueryStringKept() throws Exception {
        WhoAmI api = lb.whoami("api");
        lb.serve(List.of(http("api", List.of(), List.of("/api"), false, false, List.of(at(api)))), List.of());

        assertThat(get("x", "/api/users?id=1&b=%20x").echoed("request"))
                .isEqualTo("GET /users?id=1&b=%20x HTTP/1.1");
        assertThat(get("x", "/api?id=1").echoed("request")).isEqualTo("GET /?id=1 HTTP/1.1");
        assertThat(get("x", "/api").echoed("request")).isEqualTo("GET / HTTP/1.1");
        assertThat(get("x", "/api/").echoed("request")).isEqualTo("GET / HTTP/1.1");
    }

    @Test
    void keepVirtualPathForwardsThePathUnchanged() throws Exception {
        WhoAmI api = lb.whoami("api");
        lb.serve(List.of(http("api", List.of(), List.of("/api"), true, false, List.of(at(api)))), List.of());

        assertThat(get("x", "/api/users?id=1").echoed("request")).isEqualTo("GET /api/users?id=1 HTTP/1.1");
        assertThat(get("x", "/api").echoed("request")).isEqualTo("GET /api HTTP/1.1");
    }

    @Test
    void wildcardHostsMatchSubdomainsOnly() throws Exception {
        WhoAmI wild = lb.whoami("wild");
        WhoAmI exact = lb.whoami("exact");
        lb.serve(List.of(
                http("wild", List.of("*.example.com"), List.of(), false, false, List.of(at(wild))),
                http("exact", List.of("api.example.com"), List.of(), false, false, List.of(at(exact)))),
                List.of());

        assertThat(get("www.example.com", "/").instance()).isEqualTo("wild");
        assertThat(get("a.b.example.com", "/").instance()).isEqualTo("wild");
        assertThat(get("api.example.com", "/").instance()).isEqualTo("exact");
        assertThat(get("example.com", "/").status()).isEqualTo(503);
        assertThat(get("badexample.com", "/").status()).isEqualTo(503);
    }

    @Test
    void hostIsMatchedCaseInsensitivelyWithoutItsPort() throws Exception {
        WhoAmI web = lb.whoami("web");
        lb.serve(List.of(http("web", List.of("www.example.com"), List.of(), false, false, List.of(at(web)))),
                List.of());

        RawHttp.Response r = get("WWW.Example.COM:8080", "/");
        assertThat(r.instance()).isEqualTo("web");
        // the upstream still sees the Host the client sent, and where it came from
        assertThat(r.echoed("host")).isEqualTo("WWW.Example.COM:8080");
        assertThat(r.echoed("x-forwarded-host")).isEqualTo("WWW.Example.COM:8080");
        assertThat(get("www.example.com.", "/").status()).isIn(200, 503);
        assertThat(get("[::1]:80", "/").status()).isEqualTo(503);
    }

    @Test
    void absoluteFormRequestIsRoutedByItsAuthority() throws Exception {
        WhoAmI web = lb.whoami("web");
        lb.serve(List.of(http("web", List.of("www.example.com"), List.of("/app"), false, false, List.of(at(web)))),
                List.of());
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET http://www.example.com/app/x?y=1 HTTP/1.1\r\nHost: www.example.com\r\n"
                    + "Connection: close\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("web");
            assertThat(r.echoed("request")).isEqualTo("GET /x?y=1 HTTP/1.1");
        }
    }

    @Test
    void noRouteAnswers503WithAPage() throws Exception {
        WhoAmI web = lb.whoami("web");
        lb.serve(List.of(http("web", List.of("www.example.com"), List.of(), false, false, List.of(at(web)))),
                List.of());
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: nowhere.example.com\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.header("content-type")).startsWith("text/html");
            assertThat(r.text()).contains("503");
            // the connection stays usable
            r = c.send("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("web");
        }
    }

    @Test
    void serviceWithoutUpstreamsAnswers503() throws Exception {
        lb.serve(List.of(http("empty", List.of(), List.of("/"), false, false, List.of())), List.of());
        RawHttp.Response r = get("x", "/");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.text()).contains("empty");
    }
}
