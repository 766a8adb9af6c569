package io.kontena.lb.proxy;

import io.kontena.lb.balance.UpstreamGroup;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.proxy.http.BasicAuthCheck;

/**
 * An HTTP service as one configuration generation sees it, with the upstream group that outlives generations.
 *
 * @param auth the check of its basic authentication; null when it has none
 */
public record HttpTarget(HttpService service, UpstreamGroup group, BasicAuthCheck auth) {
    public HttpTarget(HttpService service, UpstreamGroup group) {
        this(service, group, service.basicAuth().map(a -> new BasicAuthCheck(service.name(), a)).orElse(null));
    }
}
