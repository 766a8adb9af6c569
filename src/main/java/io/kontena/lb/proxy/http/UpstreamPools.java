package io.kontena.lb.proxy.http;

import io.kontena.lb.balance.Endpoint;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.IdentityHashMap;
import java.util.Map;

/** One {@link UpstreamPool} per event loop of the proxy. */
public final class UpstreamPools {
    private final Map<EventExecutor, UpstreamPool> pools = new IdentityHashMap<>();

    public UpstreamPools(EventLoopGroup loops) {
        for (EventExecutor e : loops) {
            pools.put(e, new UpstreamPool((EventLoop) e));
        }
    }

    UpstreamPool of(EventLoop loop) {
        return pools.get(loop);
    }

    /** Closes every idle connection to a removed endpoint, each on its own loop. */
    public void closeIdle(Endpoint endpoint) {
        pools.values().forEach(p -> p.closeIdle(endpoint));
    }
}
