package io.kontena.lb.config;

import java.util.List;
import java.util.Optional;

/**
 * Everything one load balancer serves: an immutable snapshot. Two snapshots that are equal need no change.
 *
 * @param httpPort  the port plain HTTP is served on; empty when nothing needs it
 * @param http      services routed by host and path, in a stable order
 * @param tcp       services with a port of their own
 * @param problems  what was rejected while this snapshot was made, for the operator
 */
public record LbConfig(Optional<Integer> httpPort, List<HttpService> http, List<TcpService> tcp, List<Problem> problems) {
    public static final LbConfig EMPTY = new LbConfig(Optional.empty(), List.of(), List.of(), List.of());

    public LbConfig {
        http = List.copyOf(http);
        tcp = List.copyOf(tcp);
        problems = List.copyOf(problems);
    }

    public boolean isValid() {
        return problems.isEmpty();
    }
}
