package io.kontena.lb.config;

import java.util.List;

/**
 * A service reached over plain TCP on a port of its own.
 *
 * @param port         the port the load balancer listens on for this service (after any port mapping)
 * @param terminateTls clients speak TLS to the load balancer, which answers with its certificates (chosen by SNI)
 *                     and relays the plain bytes; otherwise bytes are relayed as they come, TLS or not
 */
public record TcpService(String name, Balance balance, int port, List<Upstream> upstreams, Timeouts timeouts,
                         boolean terminateTls) {
    public TcpService {
        upstreams = List.copyOf(upstreams);
    }

    /** A service whose bytes are relayed as they come. */
    public TcpService(String name, Balance balance, int port, List<Upstream> upstreams, Timeouts timeouts) {
        this(name, balance, port, upstreams, timeouts, false);
    }
}
