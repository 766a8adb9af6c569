package io.kontena.lb.config;

import java.time.Duration;

/**
 * The time limits of one service. The defaults are those of the original load balancer.
 *
 * @param connect  to open a connection to an upstream
 * @param server   an upstream may stay silent while a response is awaited or streamed
 * @param client   a client may stay silent while its request body is streamed
 * @param tunnel   an upgraded (WebSocket) or TCP connection may stay silent
 */
public record Timeouts(Duration connect, Duration server, Duration client, Duration tunnel) {
    public static final Timeouts DEFAULTS = new Timeouts(
            Duration.ofSeconds(5), Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1));

    public Timeouts withConnect(Duration d) { return new Timeouts(d, server, client, tunnel); }
    public Timeouts withServer(Duration d) { return new Timeouts(connect, d, client, tunnel); }
    public Timeouts withClient(Duration d) { return new Timeouts(connect, server, d, tunnel); }
    public Timeouts withTunnel(Duration d) { return new Timeouts(connect, server, client, d); }
}
