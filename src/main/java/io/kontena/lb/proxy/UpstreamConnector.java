package io.kontena.lb.proxy;

import io.kontena.lb.balance.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Opens upstream connections on the event loop of the client connection that needs them, so that both ends of a
 * proxied exchange are served by one thread and the hot path takes no locks. It keeps, per loop and touched only by
 * that loop, the open connections of each endpoint, so that those of a removed upstream can be closed when its drain
 * timeout passes.
 */
public final class UpstreamConnector {
    private final Bootstrap template;
    private final Map<EventExecutor, Map<Endpoint, Set<Channel>>> open = new IdentityHashMap<>();

    public UpstreamConnector(EventLoopGroup loops) {
        template = new Bootstrap()
                .channel(Transport.socketChannel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
        for (EventExecutor loop : loops) {
            open.put(loop, new HashMap<>());
        }
    }

    /**
     * Connects to an endpoint; called on {@code loop}.
     *
     * @param halfClose keep the channel open for writing after the upstream ends its side (byte relays)
     */
    public ChannelFuture connect(EventLoop loop, Endpoint endpoint, Duration timeout, boolean halfClose,
                                 ChannelHandler init) {
        ChannelFuture f = template.clone(loop)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, halfClose)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(init)
                .connect(endpoint.address());
        Channel ch = f.channel();
        Map<Endpoint, Set<Channel>> byEndpoint = open.get(loop);
        byEndpoint.computeIfAbsent(endpoint, e -> new HashSet<>()).add(ch);
        ch.closeFuture().addListener(closed -> {
            Set<Channel> channels = byEndpoint.get(endpoint);
            if (channels != null && channels.remove(ch) && channels.isEmpty()) {
                byEndpoint.remove(endpoint);
            }
        });
        return f;
    }

    /** Closes every connection to an endpoint (its drain timeout passed), each on its own loop. */
    public void closeAll(Endpoint endpoint) {
        open.forEach((loop, byEndpoint) -> loop.execute(() -> {
            Set<Channel> channels = byEndpoint.remove(endpoint);
            if (channels != null) {
                List.copyOf(channels).forEach(Channel::close);
            }
        }));
    }
}
