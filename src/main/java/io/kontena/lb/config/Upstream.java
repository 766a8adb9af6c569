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

    // equals and hashCode written out: a record's own are bootstrapped through method handles on first use, which
    // costs a start-up a few ms per record type (see LbConfig)
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof Upstream u && port == u.port && host.equals(u.host);
    }

    @Override
    public int hashCode() {
        return 31 * host.hashCode() + port;
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
