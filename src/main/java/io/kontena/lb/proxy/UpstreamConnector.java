package io.kontena.lb.proxy;

import io.kontena.lb.balance.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
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
    /** A relay's upstream needs no handler until the relay is joined; Bootstrap wants one. */
    private static final ChannelHandler NO_HANDLER = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel ch) {
        }
    };

    private final Bootstrap template = new Bootstrap();
    private final Map<EventExecutor, Map<Endpoint, Set<Channel>>> open = new IdentityHashMap<>();

    public UpstreamConnector(EventLoopGroup loops) {
        for (EventExecutor loop : loops) {
            open.put(loop, new HashMap<>());
        }
    }

    /**
     * Connects to an endpoint for an HTTP exchange; called on {@code loop}. The connection may be pooled and sit
     * idle, so TCP keep-alive is on to let the kernel find a peer that vanished meanwhile.
     */
    public ChannelFuture connect(EventLoop loop, Endpoint endpoint, Duration timeout, ChannelHandler init) {
        return connect(loop, endpoint, timeout, false, init);
    }

    /**
     * Connects to an endpoint for a byte relay; called on {@code loop}. The channel stays writable after the
     * upstream ends its side, and it is reading from the start: the relay reads it at once anyway, and asking
     * before the socket is added to epoll saves the epoll_ctl that would add reading later. No TCP keep-alive
     * (a setsockopt each): the relay's idle timeout closes a connection whose peer vanished.
     */
    public ChannelFuture connectRelay(EventLoop loop, Endpoint endpoint, Duration timeout) {
        return connect(loop, endpoint, timeout, true, NO_HANDLER);
    }

    private ChannelFuture connect(EventLoop loop, Endpoint endpoint, Duration timeout, boolean relay,
                                  ChannelHandler init) {
        InetSocketAddress address = endpoint.address();
        // TCP_NODELAY is Netty's default for its socket channels: not set again (a system call each).
        Bootstrap b = template.clone(loop)
                .channelFactory(() -> newChannel(address, relay))
                .option(ChannelOption.ALLOW_HALF_CLOSURE, relay)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(init);
        if (!relay) {
            b.option(ChannelOption.SO_KEEPALIVE, true);
        }
        ChannelFuture f = b.connect(address);
        if (f.isDone() && !f.isSuccess() && !f.channel().isRegistered()) {
            // No socket could be had (out of open files): Netty fails the connect with a placeholder channel, never
            // registered, whose listeners it would run on its global thread. They run on the loop, as for any
            // other outcome. (The placeholder cannot be closed: it has no loop.)
            return new DefaultChannelPromise(f.channel(), loop).setFailure(f.cause());
        }
        track(loop, endpoint, f.channel());
        return f;
    }

    /**
     * A socket of the address's family where the transport lets us choose (a name not resolved yet gets the default
     * one), with auto-read off. With {@code readAtOnce} it asks to read before it is registered: the epoll transport
     * then only notes the interest, and the connect adds the socket to epoll with it instead of an epoll_ctl adding
     * it once connected. (Other transports do not ask this early; the relay asks.)
     */
    private static Channel newChannel(InetSocketAddress address, boolean readAtOnce) {
        Channel ch = Transport.newSocketChannel(address);
        if (readAtOnce) {
            Transport.readOnceRegistered(ch);
        } else {
            ch.config().setAutoRead(false);
        }
        return ch;
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
