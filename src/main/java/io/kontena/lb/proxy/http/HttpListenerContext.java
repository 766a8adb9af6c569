package io.kontena.lb.proxy.http;

import io.kontena.lb.proxy.HttpTarget;
import io.kontena.lb.proxy.RoutingTable;
import io.kontena.lb.proxy.UpstreamConnector;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * What the connections of one HTTP listener share.
 *
 * @param routes         the current routing table; read once per request
 * @param scheme         "http" or "https", for X-Forwarded-Proto
 * @param requestTimeout for a client's first request head to arrive
 * @param keepAlive      for the next request on an idle keep-alive connection
 */
public record HttpListenerContext(
        Supplier<RoutingTable<HttpTarget>> routes,
        UpstreamPools pools,
        UpstreamConnector connector,
        String scheme,
        boolean accessLog,
        Duration requestTimeout,
        Duration keepAlive) {
}
