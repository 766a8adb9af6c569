package io.kontena.lb.proxy;

import io.kontena.lb.balance.UpstreamGroup;
import io.kontena.lb.config.HttpService;

/** An HTTP service as one configuration generation sees it, with the upstream group that outlives generations. */
public record HttpTarget(HttpService service, UpstreamGroup group) {
}
