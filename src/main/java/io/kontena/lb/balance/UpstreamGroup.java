package io.kontena.lb.balance;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The endpoints of one service and the strategy that spreads work over them. Requests read one volatile snapshot
 * and take no lock; {@link #update} swaps in a new snapshot while keeping the {@link Endpoint} objects of the
 * upstreams that stay, so their counters, health and pooled connections carry over.
 */
public final class UpstreamGroup {
    private static final Endpoint[] NONE = new Endpoint[0];

    private final String name;
    private volatile Members members;
    /** The service left the configuration; see {@link #retire()}. */
    private volatile boolean retired;
    /** Removed endpoints that may still have work in progress; guarded by this. */
    private final Map<Upstream, Endpoint> draining = new LinkedHashMap<>();

    /** The endpoints and strategy as one immutable pair, so a request never sees one without the other. */
    private record Members(Endpoint[] endpoints, Balance balance, EndpointSelector selector) {
    }

    public UpstreamGroup(String name, List<Upstream> upstreams, Balance balance) {
        this.name = Objects.requireNonNull(name, "name");
        this.members = new Members(NONE, balance, EndpointSelector.of(balance));
        update(upstreams, balance);
    }

    public String name() {
        return name;
    }

    /**
     * Makes {@code upstreams} the group's endpoints, in that order (duplicates count once). Endpoints of upstreams
     * that stay are kept; an upstream that comes back while still draining gets its old endpoint back. The
     * strategy's state is kept when {@code balance} does not change.
     *
     * @return the endpoints this change removed, already marked draining: the caller closes their idle pooled
     *         connections and lets the busy ones finish
     */
    public synchronized List<Endpoint> update(List<Upstream> upstreams, Balance balance) {
        Members old = members;
        Map<Upstream, Endpoint> leaving = new LinkedHashMap<>();
        for (Endpoint e : old.endpoints) {
            leaving.put(e.upstream(), e);
        }
        List<Endpoint> next = new ArrayList<>(upstreams.size());
        for (Upstream u : new LinkedHashSet<>(upstreams)) {
            Endpoint e = leaving.remove(u);
            if (e == null) {
                e = draining.remove(u);
                if (e != null) {
                    e.setDraining(false);
                } else {
                    e = new Endpoint(u);
                }
            }
            next.add(e);
        }
        // Older draining endpoints are forgotten once idle; the newly removed ones stay listed at least until the
        // next change, so an operator can see them.
        draining.values().removeIf(e -> e.active() == 0);
        List<Endpoint> removed = List.copyOf(leaving.values());
        EndpointSelector selector = balance == old.balance ? old.selector : EndpointSelector.of(balance);
        members = new Members(next.toArray(NONE), balance, selector);
        // Marked only after the new snapshot is published: marking first would leave a request that still holds
        // the old snapshot with nothing eligible when every member changes at once.
        for (Endpoint e : removed) {
            e.setDraining(true);
            draining.put(e.upstream(), e);
        }
        return removed;
    }

    /**
     * Picks the endpoint for a new request or connection.
     *
     * @param client  the client's address; source balancing hashes it (may be null when unknown)
     * @param exclude endpoints already tried for this request; {@code List.of()} on the first try
     * @return null when no endpoint is eligible
     */
    public Endpoint select(InetAddress client, List<Endpoint> exclude) {
        Members m = members;
        Endpoint chosen = m.selector.select(m.endpoints, client, exclude);
        // Nothing eligible in a snapshot that an update replaced meanwhile (its members were marked draining
        // after the new snapshot went out): the new snapshot has the answer.
        while (chosen == null && members != m) {
            m = members;
            chosen = m.selector.select(m.endpoints, client, exclude);
        }
        if (chosen == null && retired) {
            // A request routed just before its service was removed: the configuration it started under serves it.
            for (Endpoint e : m.endpoints) {
                if (e.isHealthy() && !exclude.contains(e)) {
                    return e;
                }
            }
        }
        return chosen != null ? chosen : anyNotDraining(m.endpoints, exclude);
    }

    /**
     * When health checks have taken every endpoint out of rotation, one of them all the same, from a random start:
     * checks that all fail at once more often say something about the checks (a /health that asks a shared
     * database) than about every instance, and a request that might be answered beats a 503 that is certain (as
     * Envoy's panic mode has it). Null when there is none to try.
     */
    private static Endpoint anyNotDraining(Endpoint[] endpoints, List<Endpoint> exclude) {
        int n = endpoints.length;
        int start = n == 0 ? 0 : ThreadLocalRandom.current().nextInt(n);
        for (int i = 0; i < n; i++) {
            Endpoint e = endpoints[(start + i) % n];
            if (!e.isDraining() && !e.isHealthy() && !exclude.contains(e)) {
                return e;
            }
        }
        return null;
    }

    /**
     * The service left the configuration. Its endpoints drain like removed ones (no idle connection is kept, work
     * in progress may finish), but a request that read the routing table just before the change may still be
     * given one, as it is served by the configuration current when it started; later requests never see this
     * group.
     *
     * @return the endpoints, now draining
     */
    public synchronized List<Endpoint> retire() {
        retired = true;
        Endpoint[] endpoints = members.endpoints;
        for (Endpoint e : endpoints) {
            e.setDraining(true);
            draining.put(e.upstream(), e);
        }
        return List.of(endpoints);
    }

    /** What each current endpoint is doing, in configuration order. */
    public List<EndpointState> states() {
        List<EndpointState> states = new ArrayList<>();
        for (Endpoint e : members.endpoints) {
            states.add(EndpointState.of(e));
        }
        return states;
    }

    /** The current endpoints, in configuration order. */
    public List<Endpoint> endpoints() {
        return List.of(members.endpoints);
    }

    /** Endpoints removed by configuration that may still be finishing work. */
    public synchronized List<Endpoint> drainingEndpoints() {
        return List.copyOf(draining.values());
    }

    public Balance balance() {
        return members.balance;
    }

    public boolean isEmpty() {
        return members.endpoints.length == 0;
    }

    @Override
    public String toString() {
        return name + " " + members.balance + " " + List.of(members.endpoints);
    }
}
