package io.kontena.lb.proxy.http;

import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HeaderRules.HeaderRule;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The header changes a proxy owes both directions (RFC 9110 section 7.6) and those a service asks for. */
final class ProxyHeaders {
    // AsciiString keeps its hash: a String name is hashed again by every header lookup.
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    // The Connection values set here are Strings, not Netty's AsciiString constants: Netty's HTTP/1 decoder gives
    // every header value as a String, and one AsciiString among them makes the compiled header encoding and
    // validation code, profiled on Strings only, deoptimize and compile again under load.
    static final String CONNECTION_CLOSE = "close";
    static final String CONNECTION_KEEP_ALIVE = "keep-alive";
    private static final String CONNECTION_UPGRADE = "upgrade";

    // The headers {@link #scan} looks for, one bit each. A bit that is not set means the header is absent, so
    // every lookup, removal or replacement of it can be skipped; a set bit only means it was there when scanned.
    static final int CONNECTION = 1;
    static final int KEEP_ALIVE = 1 << 1;
    static final int PROXY_CONNECTION = 1 << 2;
    static final int UPGRADE = 1 << 3;
    static final int TE = 1 << 4;
    static final int TRANSFER_ENCODING = 1 << 5;
    static final int CONTENT_LENGTH = 1 << 6;
    static final int HOST = 1 << 7;
    /** More than one Host header. */
    static final int HOSTS = 1 << 8;
    static final int EXPECT = 1 << 9;
    static final int FORWARDED_FOR = 1 << 10;
    static final int FORWARDED_PROTO = 1 << 11;
    static final int FORWARDED_PORT = 1 << 12;
    static final int FORWARDED_HOST = 1 << 13;
    /** Sec-WebSocket-Key1 or -Key2, which give an old (hixie-76) WebSocket handshake a body length. */
    static final int WEBSOCKET_KEY = 1 << 14;
    /** A Connection value other than keep-alive or close, so one that may name headers to remove. */
    static final int CONNECTION_OPTIONS = 1 << 15;
    private static final int HOP_BY_HOP = CONNECTION | KEEP_ALIVE | PROXY_CONNECTION | UPGRADE | TE;
    private static final int FORWARDED = FORWARDED_FOR | FORWARDED_PROTO | FORWARDED_PORT;

    private ProxyHeaders() {
    }

    /**
     * Which of the headers a proxy looks at are present, in one pass over the headers: a request usually has a
     * few headers and most of those looked for are absent, so this is cheaper than a hash lookup for each.
     */
    static int scan(HttpHeaders h) {
        int present = 0;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> header = it.next();
            int bit = bit(header.getKey());
            if ((bit & present & HOST) != 0) {
                bit = HOSTS;
            } else if (bit == CONNECTION && !isPlain(header.getValue())) {
                bit = CONNECTION | CONNECTION_OPTIONS;
            }
            present |= bit;
        }
        return present;
    }

    private static int bit(CharSequence name) {
        switch (name.length()) {
            case 2:
                return is(name, HttpHeaderNames.TE) ? TE : 0;
            case 4:
                return is(name, HttpHeaderNames.HOST) ? HOST : 0;
            case 6:
                return is(name, HttpHeaderNames.EXPECT) ? EXPECT : 0;
            case 7:
                return is(name, HttpHeaderNames.UPGRADE) ? UPGRADE : 0;
            case 10:
                return is(name, HttpHeaderNames.CONNECTION) ? CONNECTION
                        : is(name, HttpHeaderNames.KEEP_ALIVE) ? KEEP_ALIVE : 0;
            case 14:
                return is(name, HttpHeaderNames.CONTENT_LENGTH) ? CONTENT_LENGTH : 0;
            case 15:
                return is(name, X_FORWARDED_FOR) ? FORWARDED_FOR : 0;
            case 16:
                return is(name, HttpHeaderNames.PROXY_CONNECTION) ? PROXY_CONNECTION
                        : is(name, X_FORWARDED_PORT) ? FORWARDED_PORT
                        : is(name, X_FORWARDED_HOST) ? FORWARDED_HOST : 0;
            case 17:
                return is(name, HttpHeaderNames.TRANSFER_ENCODING) ? TRANSFER_ENCODING
                        : is(name, X_FORWARDED_PROTO) ? FORWARDED_PROTO : 0;
            case 18:
                return is(name, HttpHeaderNames.SEC_WEBSOCKET_KEY1) || is(name, HttpHeaderNames.SEC_WEBSOCKET_KEY2)
                        ? WEBSOCKET_KEY : 0;
            default:
                return 0;
        }
    }

    private static boolean is(CharSequence name, AsciiString known) {
        return known.contentEqualsIgnoreCase(name);
    }

    /** True when the request asks to switch protocols (WebSocket and the like) and may become a tunnel. */
    static boolean isUpgrade(HttpRequest request, int present) {
        return (present & (UPGRADE | CONNECTION)) == (UPGRADE | CONNECTION)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /** {@link HttpUtil#isKeepAlive}, with no lookup when there is no Connection header. */
    static boolean isKeepAlive(HttpMessage message, int present) {
        return (present & CONNECTION) == 0 ? message.protocolVersion().isKeepAliveDefault()
                : HttpUtil.isKeepAlive(message);
    }

    /** True when a request has a body: it is chunked or its length is not zero. */
    static boolean hasBody(HttpRequest request, int present) {
        return (present & TRANSFER_ENCODING) != 0 && HttpUtil.isTransferEncodingChunked(request)
                || (present & (CONTENT_LENGTH | WEBSOCKET_KEY)) != 0 && HttpUtil.getContentLength(request, 0L) > 0;
    }

    /**
     * The X-Forwarded-For, -Proto and -Port headers of a client connection's requests when the client sent none
     * of them, to be added in one go: copying headers between two header sets of the same kind takes neither a
     * name check nor a hash per header (other kinds of headers take them one by one, as before).
     */
    static HttpHeaders forwarded(String clientIp, String scheme, String localPort) {
        HttpHeaders h = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        h.add(X_FORWARDED_FOR, clientIp);
        h.add(X_FORWARDED_PROTO, scheme);
        h.add(X_FORWARDED_PORT, localPort);
        return h;
    }

    /**
     * Turns a client's request head into the one sent upstream: HTTP/1.1 with keep-alive, hop-by-hop headers
     * dropped (an upgrade keeps its Upgrade and Connection), X-Forwarded-* set.
     */
    static void toUpstream(HttpRequest request, int present, String host, String forwardUri, boolean upgrade,
                           String clientIp, String scheme, String localPort, HttpHeaders forwarded,
                           HeaderRules rules) {
        HttpHeaders h = request.headers();
        String upgradeTo = upgrade ? h.get(HttpHeaderNames.UPGRADE) : null;
        removeHopByHop(h, present);
        if ((present & EXPECT) != 0 && request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            // An HTTP/1.0 client's expectation is ignored (RFC 9110, 10.1.1): it must not get a 100 Continue.
            h.remove(HttpHeaderNames.EXPECT);
        }
        if (upgradeTo != null) {
            h.set(HttpHeaderNames.CONNECTION, CONNECTION_UPGRADE);
            h.set(HttpHeaderNames.UPGRADE, upgradeTo);
        }
        if ((present & FORWARDED) == 0) {
            h.add(forwarded);
        } else {
            String forwardedFor = (present & FORWARDED_FOR) == 0 ? null : h.get(X_FORWARDED_FOR);
            h.set(X_FORWARDED_FOR, forwardedFor == null ? clientIp : forwardedFor + ", " + clientIp);
            h.set(X_FORWARDED_PROTO, scheme);
            h.set(X_FORWARDED_PORT, localPort);
        }
        if (host != null) {
            if ((present & FORWARDED_HOST) == 0) {
                h.add(X_FORWARDED_HOST, host);
            } else {
                h.set(X_FORWARDED_HOST, host);
            }
        }
        apply(rules.request(), h);
        request.setUri(forwardUri);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** Prepares an upstream's response head for the client. */
    static void toClient(HttpMessage response, int present, boolean keepAlive, HeaderRules rules) {
        HttpHeaders h = response.headers();
        removeHopByHop(h, present);
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, CONNECTION_CLOSE);
        }
        apply(rules.response(), h);
    }

    private static void removeHopByHop(HttpHeaders h, int present) {
        if ((present & HOP_BY_HOP) == 0) {
            return;
        }
        if ((present & CONNECTION_OPTIONS) != 0) {
            removeConnectionOptions(h);
        }
        if ((present & CONNECTION) != 0) {
            h.remove(HttpHeaderNames.CONNECTION);
        }
        if ((present & KEEP_ALIVE) != 0) {
            h.remove(HttpHeaderNames.KEEP_ALIVE);
        }
        if ((present & PROXY_CONNECTION) != 0) {
            h.remove(HttpHeaderNames.PROXY_CONNECTION);
        }
        if ((present & UPGRADE) != 0) {
            h.remove(HttpHeaderNames.UPGRADE);
        }
        if ((present & TE) != 0) {
            String te = h.get(HttpHeaderNames.TE);
            if (te != null && !te.equalsIgnoreCase("trailers")) {
                h.remove(HttpHeaderNames.TE);
            }
        }
    }

    /** keep-alive and close, the usual Connection values, name no header that stays. */
    private static boolean isPlain(CharSequence connection) {
        return HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(connection)
                || HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(connection);
    }

    /** Removes the headers the Connection header's options name (the Connection header stays for the caller). */
    private static void removeConnectionOptions(HttpHeaders h) {
        // Collected first: removing headers while iterating over the Connection values would be unsafe.
        List<String> options = new ArrayList<>(2);
        for (Iterator<String> values = h.valueStringIterator(HttpHeaderNames.CONNECTION); values.hasNext(); ) {
            String value = values.next();
            if (!isPlain(value)) {
                options.add(value);
            }
        }
        for (String value : options) {
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
