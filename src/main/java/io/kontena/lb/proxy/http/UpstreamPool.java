package io.kontena.lb.proxy.http;

import io.kontena.lb.balance.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Idle keep-alive connections to upstreams, one pool per event loop: only that loop's thread touches it,
 * so taking and giving back a connection needs no lock. A connection is held as the {@link UpstreamHandler}
 * at the end of its pipeline, which knows its channel, so neither side has to look the handler up by name.
 */
public final class UpstreamPool {
    /** Enough for bursts; past it a connection is closed rather than kept idle. */
    private static final int MAX_IDLE_PER_ENDPOINT = 512;

    private final EventLoop loop;
    private final Map<Endpoint, ArrayDeque<UpstreamHandler>> idle = new HashMap<>();

    public UpstreamPool(EventLoop loop) {
        this.loop = loop;
    }

    /**
     * An open idle connection to the endpoint, most recently used first (the least likely to have been
     * closed by the upstream meanwhile), or null.
     *
     * @param maxIdleNanos skip connections idle longer than this (they are more likely to be closing)
     * @param now          the current {@link System#nanoTime()}
     */
    UpstreamHandler acquire(Endpoint endpoint, long maxIdleNanos, long now) {
        ArrayDeque<UpstreamHandler> handlers = idle.get(endpoint);
        if (handlers == null) {
            return null;
        }
        UpstreamHandler handler;
        while ((handler = handlers.pollLast()) != null) {
            if (handler.channel().isActive()) {
                if (now - handler.idleSince() <= maxIdleNanos) {
                    return handler;
                }
                // Too old for this request; keep it for one that can be retried safely.
                handlers.addFirst(handler);
                return null;
            }
        }
        return null;
    }

    /**
     * Takes back a connection whose exchange ended cleanly, or closes it when it should not be kept.
     *
     * @param now the current {@link System#nanoTime()}: the connection is idle from then on
     */
    void release(Endpoint endpoint, UpstreamHandler handler, long now) {
        Channel ch = handler.channel();
        if (endpoint.isDraining() || !ch.isActive()) {
            ch.close(); // before any lookup: a removed endpoint must not get a new (never emptied) entry
            return;
        }
        ArrayDeque<UpstreamHandler> handlers = idle.get(endpoint);
        if (handlers == null) {
            handlers = new ArrayDeque<>();
            idle.put(endpoint, handlers);
        } else if (handlers.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        handler.idle(this, endpoint, now);
        handlers.addLast(handler);
        // A pending read lets the pool see the upstream close the idle connection.
        ch.read();
    }

    /** An idle connection closed or sent something unasked: it is no longer usable. */
    void discard(Endpoint endpoint, UpstreamHandler handler) {
        ArrayDeque<UpstreamHandler> handlers = idle.get(endpoint);
        if (handlers != null) {
            handlers.remove(handler);
            if (handlers.isEmpty()) {
                idle.remove(endpoint);
            }
        }
        handler.channel().close();
    }

    /** Closes the idle connections to an endpoint that was removed; runs on the pool's loop. */
    public void closeIdle(Endpoint endpoint) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> closeIdle(endpoint));
            return;
        }
        ArrayDeque<UpstreamHandler> handlers = idle.remove(endpoint);
        if (handlers != null) {
            handlers.forEach(h -> h.channel().close());
        }
    }

    int idleCount(Endpoint endpoint) {
        ArrayDeque<UpstreamHandler> handlers = idle.get(endpoint);
        return handlers == null ? 0 : handlers.size();
    }
}
