package io.kontena.lb.balance;

import io.kontena.lb.config.Balance;

import java.net.InetAddress;
import java.util.List;

/** One balancing strategy: picks an eligible endpoint that is not excluded, or null when there is none. */
interface EndpointSelector {

    Endpoint select(Endpoint[] endpoints, InetAddress client, List<Endpoint> exclude);

    static EndpointSelector of(Balance balance) {
        return switch (balance) {
            case ROUND_ROBIN -> new RoundRobinSelector();
            case SOURCE -> new SourceHashSelector();
            case LEAST_CONN -> new LeastConnectionsSelector();
        };
    }

    static boolean usable(Endpoint e, List<Endpoint> exclude) {
        // isEmpty() first: the usual exclude list is List.of(), and the check must cost nothing then.
        return e.isEligible() && (exclude.isEmpty() || !exclude.contains(e));
    }
}
