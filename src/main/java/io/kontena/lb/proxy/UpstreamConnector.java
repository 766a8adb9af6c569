package io.kontena.lb.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Opens upstream connections on the event loop of the client connection that needs them, so that
 * both ends of a proxied exchange are served by one thread and the hot path takes no locks.
 */
public final class UpstreamConnector {
    private final Bootstrap template;

    public UpstreamConnector() {
        template = new Bootstrap()
                .channel(Transport.socketChannel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
    }

    /** @param halfClose keep the channel open for writing after the upstream ends its side (byte relays) */
    public ChannelFuture connect(EventLoop loop, InetSocketAddress address, Duration timeout, boolean halfClose,
                                 ChannelHandler init) {
        return template.clone(loop)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, halfClose)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(init)
                .connect(address);
    }
}
