package io.kontena.lb.proxy;

/**
 * What one host key (an exact name or a wildcard suffix) leads to: the services that name it together with paths,
 * and the first service that names it without paths. Either may be null.
 */
final class VirtualHost<T> {
    final PathPrefixes<T> paths;
    final Route<T> hostOnly;

    private VirtualHost(PathPrefixes<T> paths, Route<T> hostOnly) {
        this.paths = paths;
        this.hostOnly = hostOnly;
    }

    static final class Builder<T> {
        private final PathPrefixes.Builder<T> paths = new PathPrefixes.Builder<>();
        private Route<T> hostOnly;

        void addPath(String prefix, Route<T> route) {
            paths.add(prefix, route);
        }

        void addHostOnly(Route<T> route) {
            if (hostOnly == null) {
                hostOnly = route;
            }
        }

        VirtualHost<T> build() {
            return new VirtualHost<>(paths.build(), hostOnly);
        }
    }
}
