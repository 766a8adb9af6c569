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

    /**
     * The upstreams to check now. One no longer checked is put back in rotation; one whose check changed is checked
     * the new way from where it stands (in or out of rotation), on the same event loop.
     */
    public synchronized void update(Map<Endpoint, Target> wanted) {
        if (closed) {
            return;
        }
        for (Iterator<Map.Entry<Endpoint, Probe>> it = probes.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Endpoint, Probe> entry = it.next();
            Target target = wanted.get(entry.getKey());
            Probe probe = entry.getValue();
            if (target == null) {
                probe.stop(true);
                it.remove();
            } else if (!target.check().equals(probe.check())) {
                probe.stop(false);
                entry.setValue(Probe.start(entry.getKey(), target.service(), target.check(), probe.loop()));
            }
        }
        wanted.forEach((endpoint, target) -> probes.computeIfAbsent(endpoint,
                e -> Probe.start(e, target.service(), target.check(), loops.next())));
    }

    @Override
    public synchronized void close() {
        closed = true;
        probes.values().forEach(probe -> probe.stop(false));
        probes.clear();
    }
}
