package io.kontena.lb.proxy;

import io.kontena.lb.balance.UpstreamGroup;
import io.kontena.lb.config.TcpService;

/** A TCP service as one configuration generation sees it, with the upstream group that outlives generations. */
public record TcpTarget(TcpService service, UpstreamGroup group) {
}
