package io.kontena.lb.proxy;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The path prefixes of one tier (or of one virtual host), matched on whole segments with the longest prefix
 * winning. Only the lengths that some prefix has are probed, longest first, and only where the request path has a
 * segment boundary, so a lookup costs at most one hash probe per configured prefix length.
 */
final class PathPrefixes<T> {
    private final RegionMap<Route<T>> byPrefix;
    /** hasLength[n]: some prefix other than "/" is n characters long. */
    private final boolean[] hasLength;
    private final Route<T> root;

    private PathPrefixes(Map<String, Route<T>> prefixes) {
        Map<String, Route<T>> rest = new LinkedHashMap<>(prefixes);
        this.root = rest.remove("/");
        int max = 0;
        for (String p : rest.keySet()) {
            max = Math.max(max, p.length());
        }
        this.hasLength = new boolean[max + 1];
        for (String p : rest.keySet()) {
            hasLength[p.length()] = true;
        }
        this.byPrefix = new RegionMap<>(rest, false);
    }

    /** The route of the longest prefix of {@code uri[pathStart, pathEnd)} that ends on a segment boundary. */
    Route<T> match(String uri, int pathStart, int pathEnd) {
        int length = pathEnd - pathStart;
        for (int n = Math.min(length, hasLength.length - 1); n > 1; n--) {
            if (hasLength[n] && (n == length || uri.charAt(pathStart + n) == '/')) {
                Route<T> r = byPrefix.get(uri, pathStart, pathStart + n);
                if (r != null) {
                    return r;
                }
            }
        }
        return root;
    }

    /** Collects prefixes; the first route given for a prefix keeps it, as configuration order decides ties. */
    static final class Builder<T> {
        private final Map<String, Route<T>> prefixes = new LinkedHashMap<>();

        void add(String prefix, Route<T> route) {
            prefixes.putIfAbsent(prefix, route);
        }

        boolean isEmpty() {
            return prefixes.isEmpty();
        }

        PathPrefixes<T> build() {
            return prefixes.isEmpty() ? null : new PathPrefixes<>(prefixes);
        }
    }
}
