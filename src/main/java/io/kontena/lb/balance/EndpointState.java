package io.kontena.lb.balance;

import io.kontena.lb.config.Upstream;

/**
 * What an upstream is doing, as of one moment: for operators (the admin API).
 *
 * @param healthy  in rotation as far as health checks go
 * @param active   requests, tunnels and relays it has now
 * @param requests given to it since it joined (or since the process started)
 * @param failures connections to it that failed
 */
public record EndpointState(Upstream upstream, boolean healthy, int active, long requests, long failures) {
    static EndpointState of(Endpoint e) {
        return new EndpointState(e.upstream(), e.isHealthy(), e.active(), e.requests(), e.failures());
    }
}
