package io.kontena.lb.config;

import java.util.List;

/**
 * A service reached over plain TCP on a port of its own.
 *
 * @param port the port the load balancer listens on for this service (after any port mapping)
 */
public record TcpService(String name, Balance balance, int port, List<Upstream> upstreams, Timeouts timeouts) {
    public TcpService {
        upstreams = List.copyOf(upstreams);
    }
}
