package io.kontena.lb.config;

import java.time.Duration;

/**
 * An active health check of a service's upstreams: every {@code interval}, a connection to each (and, for an HTTP
 * check, a {@code GET} of {@code httpPath}, healthy on a 2xx or 3xx status) that must succeed within
 * {@code timeout}. An upstream is taken out of rotation after {@link #FALL} failed checks in a row and put back after
 * {@link #RISE} good ones, as HAProxy's defaults do.
 *
 * @param httpPath the path an HTTP check asks for; empty for a TCP connect check
 * @param port     the port checked; 0 for each upstream's own
 */
public record HealthCheck(String httpPath, int port, Duration interval, Duration timeout) {
    public static final int RISE = 2;
    public static final int FALL = 3;

    public boolean isHttp() {
        return !httpPath.isEmpty();
    }

    @Override
    public String toString() {
        return (isHttp() ? "http GET " + httpPath : "tcp connect") + (port == 0 ? "" : " on port " + port)
                + " every " + interval.toMillis() + " ms, timeout " + timeout.toMillis() + " ms";
    }
}
