package io.kontena.lb.config;

import java.util.List;
import java.util.Optional;

/**
 * A service reached over plain TCP on a port of its own.
 *
 * @param port         the port the load balancer listens on for this service (after any port mapping)
 * @param terminateTls clients speak TLS to the load balancer, which answers with its certificates (chosen by SNI)
 *                     and relays the plain bytes; otherwise bytes are relayed as they come, TLS or not
 * @param healthCheck  how its upstreams are checked, when they are
 */
public record TcpService(String name, Balance balance, int port, List<Upstream> upstreams, Timeouts timeouts,
                         boolean terminateTls, Optional<HealthCheck> healthCheck) {
    public TcpService {
        upstreams = List.copyOf(upstreams);
    }

    /** A service whose upstreams are not checked. */
    public TcpService(String name, Balance balance, int port, List<Upstream> upstreams, Timeouts timeouts,
                      boolean terminateTls) {
        this(name, balance, port, upstreams, timeouts, terminateTls, Optional.empty());
    }

    /** A service whose bytes are relayed as they come. */
    public TcpService(String name, Balance balance, int port, List<Upstream> upstreams, Timeouts timeouts) {
        this(name, balance, port, upstreams, timeouts, false);
    }
}
