package io.kontena.lb.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening sockets. Closing one stops new connections only: the connections it accepted go on, each
 * kept in {@link #connections()} so that a shutdown can wait for them.
 */
final class Listeners {
    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    private final EventLoopGroup loops;
    private final String bindAddress;
    private final Map<ListenerKey, Channel> open = new HashMap<>();
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    Listeners(EventLoopGroup loops, String bindAddress) {
        this.loops = loops;
        this.bindAddress = bindAddress;
    }

    boolean isOpen(ListenerKey key) {
        return open.containsKey(key);
    }

    /**
     * Opens a listener and waits until it is bound.
     *
     * @param childInit     sets up each accepted connection's pipeline
     * @param halfClose     accepted connections stay writable after the client ends its side (byte relays)
     * @throws ListenException when the address cannot be bound (in use, no permission)
     */
    void open(ListenerKey key, ChannelHandler childInit, boolean halfClose) {
        ChannelHandler tracked = new io.netty.channel.ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                connections.add(ch);
                ch.pipeline().addLast(childInit);
            }
        };
        ServerBootstrap b = new ServerBootstrap()
                .group(loops)
                .channel(Transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClose)
                .childHandler(tracked);
        InetSocketAddress address = new InetSocketAddress(bindAddress, key.port());
        try {
            Channel ch = b.bind(address).syncUninterruptibly().channel();
            open.put(key, ch);
            log.info("listening on {} for {}", ch.localAddress(), key);
        } catch (Exception e) {
            throw new ListenException("cannot listen on " + address.getHostString() + ":" + key.port()
                    + " for " + key + ": " + e.getMessage(), e);
        }
    }

    void close(ListenerKey key) {
        Channel ch = open.remove(key);
        if (ch != null) {
            ch.close().syncUninterruptibly();
            log.info("stopped listening on {} for {}", ch.localAddress(), key);
        }
    }

    Set<ListenerKey> keys() {
        return Set.copyOf(open.keySet());
    }

    /** The port a listener is bound to (the chosen one for port 0), or -1 when it is not open. */
    int boundPort(ListenerKey key) {
        Channel ch = open.get(key);
        return ch == null ? -1 : ((InetSocketAddress) ch.localAddress()).getPort();
    }

    ChannelGroup connections() {
        return connections;
    }

    void closeAll() {
        for (ListenerKey key : keys()) {
            close(key);
        }
    }

    /** A listener that could not be opened. */
    static final class ListenException extends RuntimeException {
        ListenException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
