package io.kontena.lb.balance;

import java.net.InetSocketAddress;
import io.kontena.lb.config.Upstream;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream of one service at run time. The same object lives as long as the upstream stays in the service's
 * configuration, so what it has counted and learnt survives configuration changes.
 *
 * <p>The data plane calls {@link #begin()} once it has chosen this endpoint for a request or connection and
 * {@link #end()} when that finishes; least-connections balancing and draining read the difference.
 */
public final class Endpoint {
    private final Upstream upstream;
    /** Resolved once, when the configuration is applied, so that no name lookup blocks an event loop. */
    private final InetSocketAddress address;
    /** Fixed per upstream, so that source hashing ranks the same upstream the same way in every configuration. */
    final long seed;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private volatile boolean draining;
    /** Counts removals, so a drain deadline set for one removal does not act on the next. */
    private volatile int removals;
    private volatile boolean healthy = true;
    /** Names the upstream in a sticky-session cookie: the same in every process, so that a fleet agrees on it. */
    private final String stickyId;

    public Endpoint(Upstream upstream) {
        this.upstream = upstream;
        this.address = new InetSocketAddress(upstream.host(), upstream.port());
        this.seed = Hashing.seedOf(upstream);
        this.stickyId = Long.toHexString(seed);
    }

    public String stickyId() {
        return stickyId;
    }

    public Upstream upstream() {
        return upstream;
    }

    public InetSocketAddress address() {
        return address;
    }

    /** A request or connection now uses this endpoint. */
    public void begin() {
        active.incrementAndGet();
        requests.increment();
    }

    /** A request or connection that {@link #begin() began} has finished, however it ended. */
    public void end() {
        active.decrementAndGet();
    }

    /** The endpoint failed a request: no connection, or a broken response. */
    public void recordFailure() {
        failures.increment();
    }

    /** Requests or connections in progress. */
    public int active() {
        return active.get();
    }

    public long requests() {
        return requests.sum();
    }

    public long failures() {
        return failures.sum();
    }

    /** Removed from the configuration: takes no new work, finishes what it has. */
    public boolean isDraining() {
        return draining;
    }

    void setDraining(boolean draining) {
        if (draining) {
            removals++; // only UpstreamGroup.update writes, under the group's lock
        }
        this.draining = draining;
    }

    /**
     * Identifies the current removal from the configuration: a drain deadline taken now applies only while
     * {@code isDraining() && removals() == taken}, not after the upstream came back (and maybe left again).
     */
    public int removals() {
        return removals;
    }

    public boolean isHealthy() {
        return healthy;
    }

    /** Set by health checking; an unhealthy endpoint is skipped while any other can be chosen. */
    public void setHealthy(boolean healthy) {
        this.healthy = healthy;
    }

    /** Whether new work may be given to this endpoint. */
    public boolean isEligible() {
        return healthy && !draining;
    }

    @Override
    public String toString() {
        return upstream.toString();
    }
}
