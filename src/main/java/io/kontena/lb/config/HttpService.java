package io.kontena.lb.config;

import java.util.List;
import java.util.Optional;

/**
 * A service reached over HTTP, chosen by the request's host and path.
 *
 * @param name            unique among the configuration's HTTP services
 * @param virtualHosts    lower-case host names; "*.example.com" matches any name ending in ".example.com"
 * @param virtualPaths    path prefixes without trailing slash ("/" alone matches every path)
 * @param keepVirtualPath forward the path unchanged instead of stripping the matched prefix
 * @param defaultService  answers the requests no other service matches
 * @param headers         header changes applied to requests and responses
 * @param healthCheck     how its upstreams are checked, when they are
 * @param basicAuth       the users a request must authenticate as, when it must
 * @param stickyCookie    how a client is brought back to the upstream that answered it, when it is
 */
public record HttpService(
        String name,
        Balance balance,
        List<String> virtualHosts,
        List<String> virtualPaths,
        boolean keepVirtualPath,
        boolean defaultService,
        List<Upstream> upstreams,
        Timeouts timeouts,
        HeaderRules headers,
        Optional<HealthCheck> healthCheck,
        Optional<BasicAuth> basicAuth,
        Optional<StickyCookie> stickyCookie) {

    public HttpService {
        virtualHosts = List.copyOf(virtualHosts);
        virtualPaths = List.copyOf(virtualPaths);
        upstreams = List.copyOf(upstreams);
    }

    /** A service whose upstreams are not checked, open to every client. */
    public HttpService(String name, Balance balance, List<String> virtualHosts, List<String> virtualPaths,
                       boolean keepVirtualPath, boolean defaultService, List<Upstream> upstreams, Timeouts timeouts,
                       HeaderRules headers) {
        this(name, balance, virtualHosts, virtualPaths, keepVirtualPath, defaultService, upstreams, timeouts, headers,
                Optional.empty(), Optional.empty(), Optional.empty());
    }
}
