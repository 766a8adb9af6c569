package io.kontena.lb.proxy;

import io.kontena.lb.config.HttpService;

/**
 * Where a request goes: a service, the runtime object the data plane attached to it, and the path prefix that
 * chose it. Built once per configuration and shared by every request it matches.
 *
 * @param <T> the data plane's object for the service
 */
public final class Route<T> {
    private final HttpService service;
    private final T target;
    private final String prefix;
    private final int stripLength;

    Route(HttpService service, T target, String prefix) {
        this.service = service;
        this.target = target;
        this.prefix = prefix;
        // "/" selects everything and strips nothing; so does a route chosen by host alone (empty prefix).
        this.stripLength = service.keepVirtualPath() || prefix.length() <= 1 ? 0 : prefix.length();
    }

    public HttpService service() {
        return service;
    }

    public T target() {
        return target;
    }

    /** The path prefix this route matched on: "" when chosen by host only or as the default service. */
    public String prefix() {
        return prefix;
    }

    /**
     * The request target to send upstream: origin-form, with the matched prefix removed unless the service keeps
     * its virtual path. The query string stays. Returns {@code uri} itself when nothing changes.
     */
    public String forwardUri(String uri) {
        int pathStart = RequestTarget.pathStart(uri, RequestTarget.authorityStart(uri));
        int from = pathStart;
        if (stripLength > 0 && uri.startsWith(prefix, pathStart)) {
            int after = pathStart + stripLength;
            // Only a whole segment is stripped; "/apifoo" was never matched by "/api", so it passes unchanged.
            if (after == uri.length() || isSegmentEnd(uri.charAt(after))) {
                from = after;
            }
        }
        if (from == 0) {
            return uri;
        }
        if (from == uri.length()) {
            return "/";
        }
        return uri.charAt(from) == '/' ? uri.substring(from) : "/" + uri.substring(from);
    }

    /**
     * The authority of an absolute-form target ({@code http://user@host:port/path} gives {@code host:port}),
     * which replaces the Host header on the way upstream; null for the other forms or an empty authority.
     */
    public static String authority(String uri) {
        int start = RequestTarget.authorityStart(uri);
        if (start < 0) {
            return null;
        }
        int end = RequestTarget.pathStart(uri, start);
        int at = uri.lastIndexOf('@', end - 1);
        if (at >= start) {
            start = at + 1;
        }
        return end > start ? uri.substring(start, end) : null;
    }

    private static boolean isSegmentEnd(char c) {
        return c == '/' || c == '?' || c == '#';
    }

    @Override
    public String toString() {
        return service.name() + (prefix.isEmpty() ? "" : " " + prefix);
    }
}
