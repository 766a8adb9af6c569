package io.kontena.lb.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.HeaderRules;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The header bookkeeping done for every request, on heads as the HTTP decoder makes them. */
class ProxyHeadersTest {
    private static HttpRequest decode(String head) {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestDecoder());
        ch.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
        HttpRequest request = ch.readInbound();
        ch.finishAndReleaseAll();
        return request;
    }

    @Test
    void scanFindsHeadersWhateverTheirCase() {
        HttpRequest r = decode("GET / HTTP/1.1\r\nhOsT: a\r\nCONNECTION: close\r\nContent-Length: 0\r\nte: trailers\r\n"
                + "X-Forwarded-Proto: https\r\nx-forwarded-HOST: b\r\nSec-WebSocket-Key2: k\r\nX-Other: 1\r\n\r\n");
        int present = ProxyHeaders.scan(r.headers());
        assertThat(present).isEqualTo(ProxyHeaders.HOST | ProxyHeaders.CONNECTION | ProxyHeaders.CONTENT_LENGTH
                | ProxyHeaders.TE | ProxyHeaders.FORWARDED_PROTO | ProxyHeaders.FORWARDED_HOST
                | ProxyHeaders.WEBSOCKET_KEY);
        assertThat(ProxyHeaders.isKeepAlive(r, present)).isFalse();
        assertThat(ProxyHeaders.hasBody(r, present)).isFalse();
    }

    @Test
    void scanTellsASecondHost() {
        assertThat(ProxyHeaders.scan(decode("GET / HTTP/1.1\r\nHost: a\r\n\r\n").headers()) & ProxyHeaders.HOSTS)
                .isZero();
        assertThat(ProxyHeaders.scan(decode("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nhost: b\r\n\r\n").headers())
                & ProxyHeaders.HOSTS).isNotZero();
    }

    @Test
    void bodyAndKeepAliveAsHttpUtilSaysWhenHeadersArePresent() {
        HttpRequest chunked = decode("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(ProxyHeaders.hasBody(chunked, ProxyHeaders.scan(chunked.headers()))).isTrue();
        HttpRequest sized = decode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
        assertThat(ProxyHeaders.hasBody(sized, ProxyHeaders.scan(sized.headers()))).isTrue();
        HttpRequest old = decode("GET / HTTP/1.0\r\n\r\n");
        assertThat(ProxyHeaders.isKeepAlive(old, ProxyHeaders.scan(old.headers()))).isFalse();
        HttpRequest oldKept = decode("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assertThat(ProxyHeaders.isKeepAlive(oldKept, ProxyHeaders.scan(oldKept.headers()))).isTrue();
    }

    private static List<String> toUpstream(String head) {
        HttpRequest r = decode(head);
        int present = ProxyHeaders.scan(r.headers());
        String host = r.headers().get("host");
        ProxyHeaders.toUpstream(r, present, host, "/", false, "192.0.2.9", "http", "8080",
                ProxyHeaders.forwarded("192.0.2.9", "http", "8080"), HeaderRules.NONE);
        return r.headers().entries().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
    }

    @Test
    void forwardedHeadersAreAddedInOrder() {
        assertThat(toUpstream("GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n")).containsExactly(
                "Host: a", "Accept: */*", "x-forwarded-for: 192.0.2.9",
                "x-forwarded-proto: http", "x-forwarded-port: 8080",
                "x-forwarded-host: a");
    }

    @Test
    void forwardedHeadersAClientSentAreReplaced() {
        assertThat(toUpstream("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Port: 1\r\nX-Forwarded-Host: evil\r\n\r\n"))
                .containsExactly("Host: a", "x-forwarded-for: 192.0.2.9",
                        "x-forwarded-proto: http", "x-forwarded-port: 8080",
                        "x-forwarded-host: a");
    }

    @Test
    void aConnectionOptionNamingForwardedForDropsTheClientsValue() {
        assertThat(toUpstream("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-For\r\n"
                + "X-Forwarded-For: 10.0.0.1\r\n\r\n")).contains("x-forwarded-for: 192.0.2.9");
    }

    @Test
    void scanTellsAConnectionValueThatMayNameHeaders() {
        assertThat(ProxyHeaders.scan(decode("GET / HTTP/1.1\r\nConnection: Keep-Alive\r\nConnection: close\r\n\r\n")
                .headers())).isEqualTo(ProxyHeaders.CONNECTION);
        assertThat(ProxyHeaders.scan(decode("GET / HTTP/1.1\r\nConnection: close\r\nConnection: X-Secret\r\n\r\n")
                .headers())).isEqualTo(ProxyHeaders.CONNECTION | ProxyHeaders.CONNECTION_OPTIONS);
        assertThat(ProxyHeaders.scan(decode("GET / HTTP/1.1\r\nConnection: keep-alive, x-secret\r\n\r\n")
                .headers())).isEqualTo(ProxyHeaders.CONNECTION | ProxyHeaders.CONNECTION_OPTIONS);
    }

    @Test
    void connectionOptionsFromEveryConnectionHeaderAreDropped() {
        assertThat(toUpstream("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nX-Secret: 1\r\n"
                + "connection: Close, x-secret ,X-Other\r\nX-Other: 2\r\nX-Kept: 3\r\nContent-Length: 0\r\n\r\n"))
                .containsExactly("Host: a", "X-Kept: 3", "Content-Length: 0", "x-forwarded-for: 192.0.2.9",
                        "x-forwarded-proto: http", "x-forwarded-port: 8080", "x-forwarded-host: a");
        assertThat(toUpstream("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                + "X-Kept: 3\r\n\r\n"))
                .containsExactly("Host: a", "X-Kept: 3", "x-forwarded-for: 192.0.2.9",
                        "x-forwarded-proto: http", "x-forwarded-port: 8080", "x-forwarded-host: a");
    }

    @Test
    void headersAddedFromTheTemplateAreCopies() {
        HttpHeaders template = ProxyHeaders.forwarded("192.0.2.9", "http", "8080");
        HttpRequest r = decode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        ProxyHeaders.toUpstream(r, ProxyHeaders.scan(r.headers()), "a", "/", false, "192.0.2.9", "http", "8080",
                template, HeaderRules.NONE);
        r.headers().set("x-forwarded-for", "changed");
        assertThat(template.get("x-forwarded-for")).isEqualTo("192.0.2.9");
        assertThat(template.size()).isEqualTo(3);
    }
}
