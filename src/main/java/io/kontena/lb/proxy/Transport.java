package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;

/** Netty's native epoll transport where the platform has it, NIO elsewhere. */
public final class Transport {
    private static final boolean EPOLL = Epoll.isAvailable();

    private Transport() {
    }

    public static String name() {
        return EPOLL ? "epoll" : "nio";
    }

    public static boolean isEpoll() {
        return EPOLL;
    }

    /** One event loop per thread; the proxy uses one per core by default. */
    public static EventLoopGroup eventLoops(int threads, String name) {
        IoHandlerFactory io = EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), io);
    }

    public static Class<? extends ServerChannel> serverChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /**
     * An unregistered, unconnected client socket channel of the address family of {@code remote} (the default one while it
     * is unresolved): an IPv4 socket for an IPv4 address rather than the default dual-stack IPv6 one, which costs a setsockopt(IPV6_V6ONLY) each.
     */
    public static Channel newSocketChannel(InetSocketAddress remote) {
        if (remote.isUnresolved()) {
            return EPOLL ? new EpollSocketChannel() : new NioSocketChannel();
        }
        SocketProtocolFamily family = remote.getAddress() instanceof Inet4Address
                ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
        return EPOLL ? new EpollSocketChannel(family) : new NioSocketChannel(SelectorProvider.provider(), family);
    }

    public static Class<? extends Channel> socketChannel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
