package io.kontena.lb.proxy.http;

import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HeaderRules.HeaderRule;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** The header changes a proxy owes both directions (RFC 9110 section 7.6) and those a service asks for. */
final class ProxyHeaders {
    // AsciiString keeps its hash: a String name is hashed again by every header lookup.
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");

    private ProxyHeaders() {
    }

    /** True when the request asks to switch protocols (WebSocket and the like) and may become a tunnel. */
    static boolean isUpgrade(HttpRequest request) {
        HttpHeaders h = request.headers();
        return h.contains(HttpHeaderNames.UPGRADE)
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /**
     * Turns a client's request head into the one sent upstream: HTTP/1.1 with keep-alive, hop-by-hop headers
     * dropped (an upgrade keeps its Upgrade and Connection), X-Forwarded-* set.
     */
    static void toUpstream(HttpRequest request, String forwardUri, boolean upgrade, String clientIp, String scheme,
                           String localPort, HeaderRules rules) {
        HttpHeaders h = request.headers();
        String upgradeTo = upgrade ? h.get(HttpHeaderNames.UPGRADE) : null;
        removeHopByHop(h);
        if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            // An HTTP/1.0 client's expectation is ignored (RFC 9110, 10.1.1): it must not get a 100 Continue.
            h.remove(HttpHeaderNames.EXPECT);
        }
        if (upgradeTo != null) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            h.set(HttpHeaderNames.UPGRADE, upgradeTo);
        }
        String host = h.get(HttpHeaderNames.HOST);
        String forwardedFor = h.get(X_FORWARDED_FOR);
        h.set(X_FORWARDED_FOR, forwardedFor == null ? clientIp : forwardedFor + ", " + clientIp);
        h.set(X_FORWARDED_PROTO, scheme);
        h.set(X_FORWARDED_PORT, localPort);
        if (host != null) {
            h.set(X_FORWARDED_HOST, host);
        }
        apply(rules.request(), h);
        request.setUri(forwardUri);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** Prepares an upstream's response head for the client. */
    static void toClient(HttpMessage response, boolean keepAlive, HeaderRules rules) {
        HttpHeaders h = response.headers();
        removeHopByHop(h);
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        apply(rules.response(), h);
    }

    private static void removeHopByHop(HttpHeaders h) {
        List<String> options = null;
        for (Iterator<String> values = h.valueStringIterator(HttpHeaderNames.CONNECTION); values.hasNext(); ) {
            String value = values.next();
            // The usual values name no header that stays; the others are collected first, as removing headers
            // while iterating over these would be unsafe.
            if (!HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(value)
                    && !HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(value)) {
                if (options == null) {
                    options = new ArrayList<>(2);
                }
                options.add(value);
            }
        }
        for (String value : options == null ? List.<String>of() : options) {
            for (String name : value.split(",")) {
                String n = name.trim();
                // Framing stays with the codec, which re-frames the body for the next hop; Host is never a
                // connection option, whatever a client says.
                if (!n.isEmpty() && !n.equalsIgnoreCase("transfer-encoding") && !n.equalsIgnoreCase("content-length")
                        && !n.equalsIgnoreCase("host")) {
                    h.remove(n);
                }
            }
        }
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(HttpHeaderNames.PROXY_CONNECTION);
        h.remove(HttpHeaderNames.UPGRADE);
        String te = h.get(HttpHeaderNames.TE);
        if (te != null && !te.equalsIgnoreCase("trailers")) {
            h.remove(HttpHeaderNames.TE);
        }
    }

    private static void apply(List<HeaderRule> rules, HttpHeaders h) {
        for (HeaderRule rule : rules) {
            switch (rule.action()) {
                case SET -> h.set(rule.name(), rule.value());
                case ADD -> h.add(rule.name(), rule.value());
                case DELETE -> h.remove(rule.name());
            }
        }
    }
}
