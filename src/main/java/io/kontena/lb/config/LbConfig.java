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
 * @param https     HTTPS, when at least one valid certificate is given
 */
public record LbConfig(Optional<Integer> httpPort, List<HttpService> http, List<TcpService> tcp, List<Problem> problems,
                       Optional<Https> https) {
    public static final LbConfig EMPTY = new LbConfig(Optional.empty(), List.of(), List.of(), List.of());

    /** A configuration without HTTPS. */
    public LbConfig(Optional<Integer> httpPort, List<HttpService> http, List<TcpService> tcp, List<Problem> problems) {
        this(httpPort, http, tcp, problems, Optional.empty());
    }

    public LbConfig {
        http = List.copyOf(http);
        tcp = List.copyOf(tcp);
        problems = List.copyOf(problems);
    }

    public boolean isValid() {
        return problems.isEmpty();
    }
}
