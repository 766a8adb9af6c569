package io.kontena.lb.health;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.config.HealthCheck;
import io.netty.channel.EventLoopGroup;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Checks the upstreams of the services that ask for it ({@link HealthCheck}), one {@link Probe} per upstream, on the
 * proxy's event loops. An upstream that stays across configuration changes keeps its probe and what it found; one
 * whose check changed starts over, and one that is no longer checked is in rotation again.
 */
public final class HealthChecker implements AutoCloseable {
    /** What to check an upstream for, and for which service (for the log). */
    public record Target(String service, HealthCheck check) {
    }

    private final EventLoopGroup loops;
    private final Map<Endpoint, Probe> probes = new HashMap<>();
    private boolean closed;

    public HealthChecker(EventLoopGroup loops) {
        this.loops = loops;
    }

    /** The upstreams to check now; every other probe stops. */
    public synchronized void update(Map<Endpoint, Target> wanted) {
        if (closed) {
            return;
        }
        for (Iterator<Map.Entry<Endpoint, Probe>> it = probes.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Endpoint, Probe> entry = it.next();
            Target target = wanted.get(entry.getKey());
            if (target == null || !target.check().equals(entry.getValue().check())) {
                entry.getValue().stop();
                entry.getKey().setHealthy(true); // judged by its checks no longer (or by new ones, from the start)
                it.remove();
            }
        }
        wanted.forEach((endpoint, target) -> probes.computeIfAbsent(endpoint,
                e -> Probe.start(e, target.service(), target.check(), loops.next())));
    }

    @Override
    public synchronized void close() {
        closed = true;
        probes.values().forEach(Probe::stop);
        probes.clear();
    }
}
