package io.kontena.lb.proxy.http;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.config.StickyCookie;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The cookie of sticky sessions ({@link StickyCookie}), read from a request and written into its response. The value
 * that names an upstream is its {@link Endpoint#stickyId()}.
 */
final class StickySessions {
    private static final char PREFIX_END = '~';
    /** An {@link Endpoint#stickyId()}. */
    private static final Pattern ID = Pattern.compile("[0-9a-f]{1,16}");

    private StickySessions() {
    }

    /**
     * The upstreams the request's cookies name (several when services of one host each set one), empty when none;
     * the Cookie header is changed as the upstream is to see it: without the load balancer's own cookie
     * ({@code insert indirect}), the session cookie without its prefix ({@code prefix}).
     */
    static List<String> fromRequest(StickyCookie sticky, HttpHeaders headers) {
        List<String> values = headers.getAll(HttpHeaderNames.COOKIE);
        if (values.isEmpty()) {
            return List.of();
        }
        List<String> ids = new ArrayList<>(1);
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
                    int end = v.indexOf(PREFIX_END);
                    if (sticky.mode() == StickyCookie.Mode.INSERT) {
                        ids.add(v);
                        keep = sticky.indirect() ? null : p;
                    } else if (end > 0 && ID.matcher(v.substring(0, end)).matches()) {
                        // only a prefix of ours: a session value of the upstream's own may hold a '~' too
                        ids.add(v.substring(0, end));
                        keep = sticky.name() + "=" + v.substring(end + 1);
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
        return ids;
    }

    /** Whether a cookie's Path attribute can hold this path (RFC 6265: no control characters, no ';'). */
    private static boolean cookiePath(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x21 || c > 0x7e || c == ';') {
                return false;
            }
        }
        return true;
    }

    /** The first endpoint of {@code candidates} that one of {@code ids} names and that may take work now, or null. */
    static Endpoint named(List<String> ids, List<Endpoint> candidates, List<Endpoint> exclude) {
        for (Endpoint e : candidates) {
            if (ids.contains(e.stickyId()) && e.isEligible() && !exclude.contains(e)) {
                return e;
            }
        }
        return null;
    }

    /**
     * Writes the cookie into a response of {@code endpoint}: {@code insert} sets the load balancer's cookie unless
     * the client has it for that upstream already; {@code prefix} puts the upstream's name in front of the value of
     * the session cookie the upstream sets.
     *
     * @param clientIds what the request's cookies named
     * @param path      where the service is served: its one virtual path, or "/". A cookie of a service routed by
     *                  its path is the browser's for that path only, so that services of one host by path each keep
     *                  their own rather than taking turns in one slot; a path a cookie cannot name (one with ';' or
     *                  a character outside printable ASCII) leaves it at "/"
     */
    static void toResponse(StickyCookie sticky, HttpHeaders headers, Endpoint endpoint, List<String> clientIds,
                           String path) {
        String id = endpoint.stickyId();
        if (sticky.mode() == StickyCookie.Mode.INSERT) {
            if (clientIds.contains(id)) {
                return;
            }
            StringBuilder cookie = new StringBuilder(sticky.name()).append('=').append(id).append("; Path=")
                    .append(cookiePath(path) ? path : "/");
            sticky.domain().ifPresent(d -> cookie.append("; Domain=").append(d));
            if (sticky.httpOnly()) {
                cookie.append("; HttpOnly");
            }
            if (sticky.secure()) {
                cookie.append("; Secure");
            }
            headers.add(HttpHeaderNames.SET_COOKIE, cookie.toString());
            if (sticky.nocache()) {
                // no shared cache may hand it to others; what the upstream said about caching stays
                String cacheControl = headers.get(HttpHeaderNames.CACHE_CONTROL);
                if (cacheControl == null || cacheControl.isBlank()) {
                    headers.set(HttpHeaderNames.CACHE_CONTROL, "private");
                } else if (!cacheControl.contains("private") && !cacheControl.contains("no-store")) {
                    headers.set(HttpHeaderNames.CACHE_CONTROL, cacheControl + ", private");
                }
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
