package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.StickyCookie;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** KONTENA_LB_COOKIE: a client comes back to the upstream that answered it. */
class StickySessionTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private static HttpService web(StickyCookie sticky, Upstream... upstreams) {
        return new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false, List.of(upstreams),
                Timeouts.DEFAULTS, HeaderRules.NONE, Optional.empty(), Optional.empty(), Optional.of(sticky));
    }

    private static RawHttp.Response get(int port, String cookie) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            return c.send("GET / HTTP/1.1\r\nHost: x\r\n" + (cookie == null ? "" : "Cookie: " + cookie + "\r\n")
                    + "Connection: close\r\n\r\n").read();
        }
    }

    @Test
    void insertedCookieBringsTheClientBackAndTheUpstreamNeverSeesIt() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        lb.serve(web(StickyCookie.DEFAULT, ProxyFixture.at(a), ProxyFixture.at(b)));
        int port = lb.httpPort();
        RawHttp.Response first = get(port, null);
        String setCookie = first.header("set-cookie");
        assertThat(setCookie).startsWith("KONTENA_SERVERID=").endsWith("; Path=/");
        assertThat(first.header("cache-control")).isEqualTo("private");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        for (int i = 0; i < 6; i++) { // round robin would alternate
            RawHttp.Response again = get(port, "theme=dark; " + cookie);
            assertThat(again.instance()).isEqualTo(first.instance());
            assertThat(again.echoed("cookie")).isEqualTo("theme=dark");
            assertThat(again.header("set-cookie")).isNull();
        }

        // another service's cookie of the same name (several services on one host) beside it
        RawHttp.Response both = get(port, "KONTENA_SERVERID=0123abcd; " + cookie);
        assertThat(both.instance()).isEqualTo(first.instance());
        assertThat(both.header("set-cookie")).isNull();

        // its upstream leaves: the client goes to another, and is given that one's cookie
        WhoAmI stays = first.instance().equals("a") ? b : a;
        lb.serve(web(StickyCookie.DEFAULT, ProxyFixture.at(stays)));
        RawHttp.Response moved = get(port, cookie);
        assertThat(moved.instance()).isEqualTo(stays.name());
        assertThat(moved.header("set-cookie")).startsWith("KONTENA_SERVERID=").isNotEqualTo(setCookie);
    }

    @Test
    void servicesOfOneHostByPathEachHaveTheirOwnCookieSlot() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        WhoAmI c = lb.whoami("c");
        WhoAmI d = lb.whoami("d");
        lb.serve(service("api", "/api", a, b), service("shop", "/shop", c, d));
        int port = lb.httpPort();
        RawHttp.Response api = get(port, "/api/x", null);
        RawHttp.Response shop = get(port, "/shop/x", null);
        assertThat(api.header("set-cookie")).matches("KONTENA_SERVERID=[0-9a-f]+; Path=/api");
        assertThat(shop.header("set-cookie")).matches("KONTENA_SERVERID=[0-9a-f]+; Path=/shop");
        String apiCookie = api.header("set-cookie").substring(0, api.header("set-cookie").indexOf(';'));
        String shopCookie = shop.header("set-cookie").substring(0, shop.header("set-cookie").indexOf(';'));
        for (int i = 0; i < 4; i++) { // each path's requests carry its own cookie, as a browser sends them
            assertThat(get(port, "/api/x", apiCookie).instance()).isEqualTo(api.instance());
            assertThat(get(port, "/shop/x", shopCookie).instance()).isEqualTo(shop.instance());
        }
    }

    private static HttpService service(String name, String path, WhoAmI... upstreams) {
        return new HttpService(name, Balance.ROUND_ROBIN, List.of(), List.of(path), false, false,
                java.util.Arrays.stream(upstreams).map(ProxyFixture::at).toList(), Timeouts.DEFAULTS, HeaderRules.NONE,
                Optional.empty(), Optional.empty(), Optional.of(StickyCookie.DEFAULT));
    }

    private static RawHttp.Response get(int port, String path, String cookie) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            return c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + (cookie == null ? "" : "Cookie: " + cookie
                    + "\r\n") + "Connection: close\r\n\r\n").read();
        }
    }

    @Test
    void aSessionThatStartsWithAWebSocketSticksToo() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        lb.serve(web(StickyCookie.DEFAULT, ProxyFixture.at(a), ProxyFixture.at(b)));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response upgraded = c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").read();
            assertThat(upgraded.status()).isEqualTo(101);
            assertThat(upgraded.header("set-cookie")).startsWith("KONTENA_SERVERID=");
        }
    }

    /** An upstream with a session cookie of its own: it sets JSESSIONID and says which cookies it got. */
    private HttpServer sessionUpstream(String name) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", exchange -> {
            String got = exchange.getRequestHeaders().getFirst("Cookie");
            exchange.getResponseHeaders().add("x-instance", name);
            exchange.getResponseHeaders().add("x-cookie", got == null ? "-" : got);
            if (got == null) {
                exchange.getResponseHeaders().add("Set-Cookie", "JSESSIONID=s-" + name + "; Path=/; HttpOnly");
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        lb.closeAfter(() -> server.stop(0));
        return server;
    }

    @Test
    void aPrefixedSessionCookieCarriesTheUpstreamWhichSeesItsOwnValue() throws Exception {
        HttpServer a = sessionUpstream("a");
        HttpServer b = sessionUpstream("b");
        lb.serve(web(new StickyCookie("JSESSIONID", StickyCookie.Mode.PREFIX, false, false, false, false,
                        Optional.empty()), new Upstream("127.0.0.1", a.getAddress().getPort()),
                new Upstream("127.0.0.1", b.getAddress().getPort())));
        int port = lb.httpPort();
        RawHttp.Response first = get(port, null);
        String instance = first.header("x-instance");
        assertThat(first.header("set-cookie")).matches("JSESSIONID=[0-9a-f]+~s-" + instance + "; Path=/; HttpOnly");
        String cookie = first.header("set-cookie").substring(0, first.header("set-cookie").indexOf(';'));
        for (int i = 0; i < 6; i++) {
            RawHttp.Response again = get(port, cookie);
            assertThat(again.header("x-instance")).isEqualTo(instance);
            assertThat(again.header("x-cookie")).isEqualTo("JSESSIONID=s-" + instance);
        }
    }
}
