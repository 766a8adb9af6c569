package io.kontena.lb.proxy.http;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.config.StickyCookie;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;

/**
 * The cookie of sticky sessions ({@link StickyCookie}), read from a request and written into its response. The value
 * that names an upstream is its {@link Endpoint#stickyId()}.
 */
final class StickySessions {
    private static final char PREFIX_END = '~';

    private StickySessions() {
    }

    /**
     * The upstream the request's cookie names, or null; the Cookie header is changed as the upstream is to see it:
     * without the load balancer's own cookie ({@code insert indirect}), the session cookie without its prefix
     * ({@code prefix}).
     */
    static String fromRequest(StickyCookie sticky, HttpHeaders headers) {
        List<String> values = headers.getAll(HttpHeaderNames.COOKIE);
        if (values.isEmpty()) {
            return null;
        }
        String id = null;
        boolean changed = false;
        List<String> kept = new ArrayList<>(values.size());
        for (String value : values) {
            StringBuilder out = new StringBuilder(value.length());
            for (String pair : value.split(";")) {
                String p = pair.trim();
                int eq = p.indexOf('=');
                String keep = p;
                if (eq > 0 && p.substring(0, eq).trim().equals(sticky.name())) {
                    String v = p.substring(eq + 1).trim();
                    if (sticky.mode() == StickyCookie.Mode.INSERT) {
                        id = v;
                        keep = sticky.indirect() ? null : p;
                    } else if (v.indexOf(PREFIX_END) > 0) {
                        id = v.substring(0, v.indexOf(PREFIX_END));
                        keep = sticky.name() + "=" + v.substring(v.indexOf(PREFIX_END) + 1);
                    }
                    changed |= keep != p;
                }
                if (keep != null && !keep.isEmpty()) {
                    out.append(out.length() == 0 ? "" : "; ").append(keep);
                }
            }
            if (out.length() > 0) {
                kept.add(out.toString());
            }
        }
        if (changed) {
            headers.remove(HttpHeaderNames.COOKIE);
            kept.forEach(v -> headers.add(HttpHeaderNames.COOKIE, v));
        }
        return id;
    }

    /** The endpoint of {@code candidates} that {@code id} names, when it may take work now; else null. */
    static Endpoint named(String id, List<Endpoint> candidates, List<Endpoint> exclude) {
        for (Endpoint e : candidates) {
            if (e.stickyId().equals(id)) {
                return e.isEligible() && !exclude.contains(e) ? e : null;
            }
        }
        return null;
    }

    /**
     * Writes the cookie into a response of {@code endpoint}: {@code insert} sets the load balancer's cookie unless
     * the client has it for that upstream already; {@code prefix} puts the upstream's name in front of the value of
     * the session cookie the upstream sets.
     *
     * @param clientId what the request's cookie named, or null
     */
    static void toResponse(StickyCookie sticky, HttpHeaders headers, Endpoint endpoint, String clientId) {
        String id = endpoint.stickyId();
        if (sticky.mode() == StickyCookie.Mode.INSERT) {
            if (id.equals(clientId)) {
                return;
            }
            StringBuilder cookie = new StringBuilder(sticky.name()).append('=').append(id).append("; Path=/");
            sticky.domain().ifPresent(d -> cookie.append("; Domain=").append(d));
            if (sticky.httpOnly()) {
                cookie.append("; HttpOnly");
            }
            if (sticky.secure()) {
                cookie.append("; Secure");
            }
            headers.add(HttpHeaderNames.SET_COOKIE, cookie.toString());
            if (sticky.nocache()) {
                headers.set(HttpHeaderNames.CACHE_CONTROL, "private"); // no shared cache hands it to others
            }
            return;
        }
        List<String> setCookies = headers.getAll(HttpHeaderNames.SET_COOKIE);
        String start = sticky.name() + "=";
        if (setCookies.stream().noneMatch(c -> c.startsWith(start))) {
            return;
        }
        headers.remove(HttpHeaderNames.SET_COOKIE);
        for (String c : setCookies) {
            headers.add(HttpHeaderNames.SET_COOKIE, c.startsWith(start)
                    ? start + id + PREFIX_END + c.substring(start.length()) : c);
        }
    }
}
