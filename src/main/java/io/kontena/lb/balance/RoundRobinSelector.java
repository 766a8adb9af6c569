package io.kontena.lb.balance;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Each endpoint in turn. One shared counter taken with a single atomic increment, so event loops never wait on
 * each other; an endpoint that cannot be used passes its turn to the next one.
 */
final class RoundRobinSelector implements EndpointSelector {
    private final AtomicInteger next = new AtomicInteger();

    @Override
    public Endpoint select(Endpoint[] endpoints, InetAddress client, List<Endpoint> exclude) {
        int n = endpoints.length;
        if (n == 0) {
            return null;
        }
        int start = (next.getAndIncrement() & Integer.MAX_VALUE) % n;
        for (int i = 0; i < n; i++) {
            int index = start + i < n ? start + i : start + i - n;
            Endpoint e = endpoints[index];
            if (EndpointSelector.usable(e, exclude)) {
                return e;
            }
        }
        return null;
    }
}
