package io.kontena.lb.proxy.http;

import io.kontena.lb.balance.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Idle keep-alive connections to upstreams, one pool per event loop: only that loop's thread touches it,
 * so taking and giving back a connection needs no lock.
 */
public final class UpstreamPool {
    /** Enough for bursts; past it a connection is closed rather than kept idle. */
    private static final int MAX_IDLE_PER_ENDPOINT = 512;

    private final EventLoop loop;
    private final Map<Endpoint, ArrayDeque<Channel>> idle = new HashMap<>();

    public UpstreamPool(EventLoop loop) {
        this.loop = loop;
    }

    /**
     * An open idle connection to the endpoint, most recently used first (the least likely to have been
     * closed by the upstream meanwhile), or null.
     *
     * @param maxIdleNanos skip connections idle longer than this (they are more likely to be closing)
     */
    Channel acquire(Endpoint endpoint, long maxIdleNanos) {
        ArrayDeque<Channel> channels = idle.get(endpoint);
        if (channels == null) {
            return null;
        }
        long now = System.nanoTime();
        Channel ch;
        while ((ch = channels.pollLast()) != null) {
            UpstreamHandler handler = UpstreamHandler.of(ch);
            if (ch.isActive() && now - handler.idleSince() <= maxIdleNanos) {
                return ch;
            }
            if (ch.isActive()) {
                // Too old for this request; keep it for one that can be retried safely.
                channels.addFirst(ch);
                return null;
            }
        }
        return null;
    }

    /** Takes back a connection whose exchange ended cleanly, or closes it when it should not be kept. */
    void release(Endpoint endpoint, Channel ch) {
        if (endpoint.isDraining() || !ch.isActive()) {
            ch.close(); // before any lookup: a removed endpoint must not get a new (never emptied) entry
            return;
        }
        ArrayDeque<Channel> channels = idle.computeIfAbsent(endpoint, e -> new ArrayDeque<>());
        if (channels.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        UpstreamHandler.of(ch).idle(this, endpoint);
        channels.addLast(ch);
        // A pending read lets the pool see the upstream close the idle connection.
        ch.read();
    }

    /** An idle connection closed or sent something unasked: it is no longer usable. */
    void discard(Endpoint endpoint, Channel ch) {
        ArrayDeque<Channel> channels = idle.get(endpoint);
        if (channels != null) {
            channels.remove(ch);
            if (channels.isEmpty()) {
                idle.remove(endpoint);
            }
        }
        ch.close();
    }

    /** Closes the idle connections to an endpoint that was removed; runs on the pool's loop. */
    public void closeIdle(Endpoint endpoint) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> closeIdle(endpoint));
            return;
        }
        ArrayDeque<Channel> channels = idle.remove(endpoint);
        if (channels != null) {
            channels.forEach(Channel::close);
        }
    }

    int idleCount(Endpoint endpoint) {
        ArrayDeque<Channel> channels = idle.get(endpoint);
        return channels == null ? 0 : channels.size();
    }
}
