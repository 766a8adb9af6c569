package io.kontena.lb.proxy;

import io.kontena.lb.config.HttpService;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Chooses the HTTP service for a request from its host and path. Built once per configuration and then only read:
 * requests share it without locks, and a lookup makes no objects.
 *
 * <p>Precedence, as in the original load balancer with its path defects fixed:
 * <ol>
 *   <li>services with hosts and paths: the most specific matching host key (exact name, then wildcards from the
 *       longest suffix down) that has a matching path, and within it the longest path prefix;</li>
 *   <li>services with hosts only: the most specific matching host key;</li>
 *   <li>services with paths only: the longest matching prefix ("/" catches everything);</li>
 *   <li>the default service.</li>
 * </ol>
 * Paths match on whole segments ({@code /api} matches {@code /api}, {@code /api/x} and {@code /api?q}, never
 * {@code /apifoo}) and are case-sensitive; hosts ignore case, the port and a trailing dot. When two services
 * claim the same host and path, the one earlier in the configuration wins.
 *
 * @param <T> the data plane's object for a service, handed back with each route
 */
public final class RoutingTable<T> {
    private static final RoutingTable<Object> EMPTY = new RoutingTable<>(
            new RegionMap<>(Map.of(), true), null, new boolean[0], null, null, Map.of());

    private final RegionMap<VirtualHost<T>> exactHosts;
    /** Keyed by the suffix with its leading dot: "*.example.com" is ".example.com". Null when there are none. */
    private final RegionMap<VirtualHost<T>> wildcardHosts;
    /** wildcardLengths[n]: some wildcard key is n characters long; other suffixes are not worth a probe. */
    private final boolean[] wildcardLengths;
    private final PathPrefixes<T> pathOnly;
    private final Route<T> fallback;
    /** Paths the load balancer answers itself, whatever the host: see {@link #answer}. */
    private final Map<String, String> answers;

    private RoutingTable(RegionMap<VirtualHost<T>> exactHosts, RegionMap<VirtualHost<T>> wildcardHosts,
                         boolean[] wildcardLengths, PathPrefixes<T> pathOnly, Route<T> fallback,
                         Map<String, String> answers) {
        this.exactHosts = exactHosts;
        this.wildcardHosts = wildcardHosts;
        this.wildcardLengths = wildcardLengths;
        this.pathOnly = pathOnly;
        this.fallback = fallback;
        this.answers = answers;
    }

    @SuppressWarnings("unchecked")
    public static <T> RoutingTable<T> empty() {
        return (RoutingTable<T>) EMPTY;
    }

    /**
     * Builds the table for {@code services} (in configuration order, which breaks ties). {@code target} is called
     * once per service. A service with neither hosts nor paths is taken as the path "/", unless it is the default
     * service, which answers only what nothing else matches.
     */
    public static <T> RoutingTable<T> build(List<HttpService> services,
                                            Function<? super HttpService, ? extends T> target) {
        return build(services, target, Map.of());
    }

    /** {@link #build(List, Function)}, with paths that the load balancer answers itself before any service. */
    public static <T> RoutingTable<T> build(List<HttpService> services,
                                            Function<? super HttpService, ? extends T> target,
                                            Map<String, String> answers) {
        Map<String, VirtualHost.Builder<T>> exact = new LinkedHashMap<>();
        Map<String, VirtualHost.Builder<T>> wildcard = new LinkedHashMap<>();
        PathPrefixes.Builder<T> pathOnly = new PathPrefixes.Builder<>();
        Route<T> fallback = null;

        for (HttpService service : services) {
            T t = target.apply(service);
            // one route per service and prefix; loops rather than streams and lambdas, which the JVM spins a
            // class for each on first use, at start-up
            Map<String, Route<T>> routesByPrefix = new HashMap<>();
            Set<String> paths = new LinkedHashSet<>();
            for (String path : service.virtualPaths()) {
                String p = normalizePath(path);
                if (!p.isEmpty()) {
                    paths.add(p);
                }
            }
            Set<String> hosts = new LinkedHashSet<>();
            for (String host : service.virtualHosts()) {
                String h = normalizeHost(host);
                if (!h.isEmpty()) {
                    hosts.add(h);
                }
            }

            for (String host : hosts) {
                VirtualHost.Builder<T> vh = host.startsWith("*.")
                        ? builder(wildcard, host.substring(1))
                        : builder(exact, host);
                if (paths.isEmpty()) {
                    vh.addHostOnly(route(routesByPrefix, service, t, ""));
                } else {
                    for (String path : paths) {
                        vh.addPath(path, route(routesByPrefix, service, t, path));
                    }
                }
            }
            if (hosts.isEmpty()) {
                for (String path : paths) {
                    pathOnly.add(path, route(routesByPrefix, service, t, path));
                }
                if (paths.isEmpty() && !service.defaultService()) {
                    pathOnly.add("/", route(routesByPrefix, service, t, "/"));
                }
            }
            if (service.defaultService() && fallback == null) {
                fallback = route(routesByPrefix, service, t, "");
            }
        }
        int longestWildcard = -1;
        for (String k : wildcard.keySet()) {
            longestWildcard = Math.max(longestWildcard, k.length());
        }
        boolean[] wildcardLengths = new boolean[longestWildcard + 1];
        for (String k : wildcard.keySet()) {
            wildcardLengths[k.length()] = true;
        }
        return new RoutingTable<>(
                new RegionMap<>(buildAll(exact), true),
                wildcard.isEmpty() ? null : new RegionMap<>(buildAll(wildcard), true),
                wildcardLengths,
                pathOnly.build(),
                fallback,
                Map.copyOf(answers));
    }

    /**
     * The text the load balancer answers a request for {@code uri} with itself (its health URI, an ACME challenge),
     * whatever the host, or null. The path must match exactly; the query is ignored.
     */
    public String answer(String uri) {
        if (answers.isEmpty()) {
            return null; // no path to cut out of each request
        }
        int pathStart = RequestTarget.pathStart(uri, RequestTarget.authorityStart(uri));
        return answers.get(uri.substring(pathStart, RequestTarget.pathEnd(uri, pathStart)));
    }

    /**
     * The route for a request, or null when no service matches.
     *
     * @param hostHeader the Host header as received (may be null); ignored for absolute-form targets
     * @param uri        the request target as received: origin-form or absolute-form
     */
    public Route<T> route(String hostHeader, String uri) {
        int authority = RequestTarget.authorityStart(uri);
        int pathStart = RequestTarget.pathStart(uri, authority);
        int pathEnd = RequestTarget.pathEnd(uri, pathStart);

        long host = RequestTarget.NONE;
        String hostSource = uri;
        if (authority >= 0) {
            host = RequestTarget.host(uri, authority, pathStart);
        }
        if (host == RequestTarget.NONE && hostHeader != null) {
            hostSource = hostHeader;
            host = RequestTarget.host(hostHeader, 0, hostHeader.length());
        }
        if (host != RequestTarget.NONE) {
            Route<T> r = routeByHost(hostSource, RequestTarget.start(host), RequestTarget.end(host),
                    uri, pathStart, pathEnd);
            if (r != null) {
                return r;
            }
        }
        if (pathOnly != null) {
            Route<T> r = pathOnly.match(uri, pathStart, pathEnd);
            if (r != null) {
                return r;
            }
        }
        return fallback;
    }

    /**
     * Tiers 1 and 2. One walk from the end of the host name yields the hash of each suffix that starts at a dot
     * (the wildcard keys) and finally of the whole name (the exact key). Suffixes come shortest first, so a later
     * wildcard hit is always the more specific one.
     */
    private Route<T> routeByHost(String h, int start, int end, String uri, int pathStart, int pathEnd) {
        Route<T> wildcardWithPath = null;
        Route<T> wildcardHostOnly = null;
        int hash = 0;
        for (int i = end - 1; i >= start; i--) {
            char c = h.charAt(i);
            hash = RegionMap.step(hash, c, true);
            int length = end - i;
            if (c != '.' || length >= wildcardLengths.length || !wildcardLengths[length]) {
                continue;
            }
            VirtualHost<T> vh = wildcardHosts.get(h, i, end, hash);
            if (vh != null) {
                if (vh.paths != null) {
                    Route<T> r = vh.paths.match(uri, pathStart, pathEnd);
                    if (r != null) {
                        wildcardWithPath = r;
                    }
                }
                if (vh.hostOnly != null) {
                    wildcardHostOnly = vh.hostOnly;
                }
            }
        }
        VirtualHost<T> exact = exactHosts.get(h, start, end, hash);
        if (exact != null && exact.paths != null) {
            Route<T> r = exact.paths.match(uri, pathStart, pathEnd);
            if (r != null) {
                return r;
            }
        }
        if (wildcardWithPath != null) {
            return wildcardWithPath;
        }
        return exact != null && exact.hostOnly != null ? exact.hostOnly : wildcardHostOnly;
    }

    private static <T> Map<String, VirtualHost<T>> buildAll(Map<String, VirtualHost.Builder<T>> builders) {
        Map<String, VirtualHost<T>> built = new HashMap<>(builders.size() * 2);
        for (Map.Entry<String, VirtualHost.Builder<T>> e : builders.entrySet()) {
            built.put(e.getKey(), e.getValue().build());
        }
        return built;
    }

    private static <T> VirtualHost.Builder<T> builder(Map<String, VirtualHost.Builder<T>> builders, String host) {
        VirtualHost.Builder<T> b = builders.get(host);
        if (b == null) {
            b = new VirtualHost.Builder<>();
            builders.put(host, b);
        }
        return b;
    }

    private static <T> Route<T> route(Map<String, Route<T>> routes, HttpService service, T target, String prefix) {
        Route<T> r = routes.get(prefix);
        if (r == null) {
            r = new Route<>(service, target, prefix);
            routes.put(prefix, r);
        }
        return r;
    }

    /** Host keys take the same normal form as request hosts, so "Example.COM." and "example.com" are one key. */
    static String normalizeHost(String host) {
        long r = RequestTarget.host(host, 0, host.length());
        return r == RequestTarget.NONE ? ""
                : host.substring(RequestTarget.start(r), RequestTarget.end(r)).toLowerCase(Locale.ROOT);
    }

    /** "/api/" and "api" mean "/api": prefixes are compared by whole segments and kept without a trailing slash. */
    static String normalizePath(String path) {
        String p = path.trim();
        if (p.isEmpty()) {
            return "";
        }
        if (p.charAt(0) != '/') {
            p = "/" + p;
        }
        int end = p.length();
        while (end > 1 && p.charAt(end - 1) == '/') {
            end--;
        }
        return p.substring(0, end);
    }
}
