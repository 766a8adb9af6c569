package io.kontena.lb.balance;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The endpoint with the fewest requests or connections in progress. The scan starts at a rotating position and
 * keeps the first of equals, so endpoints with equal counts (an idle service, say) share the work in turn
 * instead of the first one taking it all.
 */
final class LeastConnectionsSelector implements EndpointSelector {
    private final AtomicInteger next = new AtomicInteger();

    @Override
    public Endpoint select(Endpoint[] endpoints, InetAddress client, List<Endpoint> exclude) {
        int n = endpoints.length;
        if (n == 0) {
            return null;
        }
        int start = (next.getAndIncrement() & Integer.MAX_VALUE) % n;
        Endpoint best = null;
        int fewest = Integer.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            int index = start + i < n ? start + i : start + i - n;
            Endpoint e = endpoints[index];
            if (EndpointSelector.usable(e, exclude)) {
                int active = e.active();
                if (active < fewest) {
                    best = e;
                    fewest = active;
                }
            }
        }
        return best;
    }
}
