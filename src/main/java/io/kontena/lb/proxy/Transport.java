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
import io.netty.channel.epoll.Native;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Netty's native epoll transport where the platform has it, NIO elsewhere. */
public final class Transport {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);
    private static final boolean EPOLL = Epoll.isAvailable();
    /** AbstractEpollChannel.setFlag(int), (Channel, int) void; null with NIO or when Netty has no such method. */
    private static final MethodHandle SET_EPOLL_FLAG = EPOLL ? setEpollFlag() : null;

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

    /**
     * Keeps a socket whose peer half-closed in epoll, so that a later write that must wait for room can still ask for
     * EPOLLOUT. Call it on ChannelInputShutdownEvent, for a channel that stays open to write.
     *
     * <p>Netty 4.2.18 (epoll) clears EPOLLIN and EPOLLRDHUP once the input ended; an interest set left empty makes
     * its IoRegistration delete the socket from epoll (EPOLL_CTL_DEL) yet go on treating it as added, so the EPOLLOUT
     * of the next write that finds the socket full goes out as EPOLL_CTL_MOD, fails (ENOENT), and Netty shuts the
     * output with the rest unsent. EPOLLET keeps the set from being empty: the input needs no watching any more, and
     * Netty writes until the socket is full before it waits for EPOLLOUT, as an edge-triggered writer must. (EPOLLERR
     * would do too, but a socket hung up both ways would then wake every epoll_wait until closed.) One epoll_ctl per
     * such connection; setFlag is protected, hence the reflection.
     */
    public static void keepInEpollAfterInputEnds(Channel ch) {
        if (SET_EPOLL_FLAG == null || !(ch instanceof EpollSocketChannel)) {
            return;
        }
        try {
            SET_EPOLL_FLAG.invokeExact(ch, Native.EPOLLET);
        } catch (Throwable e) {
            // The socket has left epoll already: no worse than without the call.
            log.debug("cannot keep {} in epoll: {}", ch, e.toString());
        }
    }

    private static MethodHandle setEpollFlag() {
        try {
            Method m = Class.forName("io.netty.channel.epoll.AbstractEpollChannel")
                    .getDeclaredMethod("setFlag", int.class);
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m)
                    .asType(MethodType.methodType(void.class, Channel.class, int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("epoll: cannot reach AbstractEpollChannel.setFlag ({}): a client that half-closes its"
                    + " connection may get a long answer cut short", e.toString());
            return null;
        }
    }
}
