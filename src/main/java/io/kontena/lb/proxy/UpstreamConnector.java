package io.kontena.lb.proxy;

import io.kontena.lb.balance.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelException;
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
                // TCP_NODELAY is Netty's default for its socket channels: not set again (a system call each).
                .option(ChannelOption.AUTO_READ, false)
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
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        Channel ch = null;
        if (!endpoint.address().isUnresolved()) {
            try {
                ch = Transport.newSocketChannel();
            } catch (ChannelException e) {
                ch = null;
            }
        }
        if (ch == null) {
            // A name that did not resolve, or no socket (out of file descriptors): Bootstrap tries to resolve and
            // reports failures as a failed future with a placeholder channel, as callers expect.
            ChannelFuture f = template.clone(loop)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, halfClose)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                    .handler(init)
                    .connect(endpoint.address());
            track(loop, endpoint, f.channel());
            return f;
        }
        // What Bootstrap.connect does, without its per-connection copy of the options, resolver and reflection:
        // a new connection to each endpoint is made for every TCP client.
        ChannelConfig config = ch.config();
        config.setAutoRead(false);
        config.setConnectTimeoutMillis(timeoutMillis);
        config.setOption(ChannelOption.SO_KEEPALIVE, true);
        config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClose);
        ch.pipeline().addLast(init);
        ChannelFuture registered = loop.register(ch);
        if (registered.cause() != null) {
            ch.unsafe().closeForcibly();
            return registered;
        }
        ChannelFuture f = ch.connect(endpoint.address());
        track(loop, endpoint, ch);
        return f;
    }

    private void track(EventLoop loop, Endpoint endpoint, Channel ch) {
        Map<Endpoint, Set<Channel>> byEndpoint = open.get(loop);
        byEndpoint.computeIfAbsent(endpoint, e -> new HashSet<>()).add(ch);
        ch.closeFuture().addListener(closed -> {
            Set<Channel> channels = byEndpoint.get(endpoint);
            if (channels != null && channels.remove(ch) && channels.isEmpty()) {
                byEndpoint.remove(endpoint);
            }
        });
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
