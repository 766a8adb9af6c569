package io.kontena.lb.config;

import java.util.Objects;

/** One instance of a service: where the load balancer connects to reach it. */
public record Upstream(String host, int port) {
    public Upstream {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1-65535");
        }
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
