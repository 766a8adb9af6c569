package io.kontena.lb.balance;

import java.net.InetAddress;
import java.util.List;

/**
 * Client-IP affinity by rendezvous (highest random weight) hashing: each endpoint scores each client, and the
 * highest score wins. Adding or removing one of N endpoints moves only the clients whose winner changes, about
 * 1/N of them, where a modulo hash would move almost all. An excluded or unusable endpoint gives its clients to
 * their next-best endpoint by the same ranking, and they come back when it does.
 */
final class SourceHashSelector implements EndpointSelector {

    @Override
    public Endpoint select(Endpoint[] endpoints, InetAddress client, List<Endpoint> exclude) {
        long key = Hashing.keyOf(client);
        Endpoint best = null;
        long bestScore = 0;
        for (Endpoint e : endpoints) {
            if (EndpointSelector.usable(e, exclude)) {
                long score = Hashing.score(key, e.seed);
                if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
                    best = e;
                    bestScore = score;
                }
            }
        }
        return best;
    }
}
