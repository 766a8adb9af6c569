package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.Native;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The I/O transport of this process: Netty's io_uring where the platform has it, else epoll, else NIO.
 * {@value #VARIABLE} in the environment ({@code io_uring}, {@code epoll} or {@code nio}) picks one instead; see
 * {@link TransportKind#choose}.
 */
public final class Transport {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);
    /** The environment variable that picks the transport. */
    public static final String VARIABLE = "KONTENA_LB_TRANSPORT";
    private static final TransportKind KIND = TransportKind.choose(System.getenv(VARIABLE));
    /** AbstractEpollChannel.setFlag(int), (Channel, int) void; null unless epoll runs and Netty has the method. */
    private static final MethodHandle SET_EPOLL_FLAG = KIND == TransportKind.EPOLL ? setEpollFlag() : null;
    /**
     * Whether io_uring listeners can be held (see {@link UringAcceptHold}); looked up now, as a class loaded when the
     * process is out of open files could not be read.
     */
    private static final boolean HOLD_ACCEPTS = KIND == TransportKind.IO_URING && UringAcceptHold.available();

    private Transport() {
    }

    public static TransportKind kind() {
        return KIND;
    }

    public static String name() {
        return KIND.label();
    }

    /** One event loop per thread; the proxy uses one per core by default. */
    public static EventLoopGroup eventLoops(int threads, String name) {
        return eventLoops(KIND, threads, name);
    }

    public static EventLoopGroup eventLoops(TransportKind kind, int threads, String name) {
        IoHandlerFactory io = kind.ioHandlers();
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), io);
    }

    public static Class<? extends ServerChannel> serverChannel() {
        return KIND.serverChannel();
    }

    public static Class<? extends Channel> socketChannel() {
        return KIND.socketChannel();
    }

    /** An unregistered, unconnected client socket channel for {@code remote}: see {@link TransportKind}. */
    public static Channel newSocketChannel(InetSocketAddress remote) {
        return KIND.newSocketChannel(remote);
    }

    /** See {@link TransportKind#adoptListeningSocket(int)}. */
    public static ServerChannel adoptListeningSocket(int fd) {
        return KIND.adoptListeningSocket(fd);
    }

    /**
     * Asks a channel that is not registered yet to read once it is, with auto-read off (set here, as the option
     * applied later would drop the ask). Epoll notes the interest and adds the socket to epoll with it, saving the
     * epoll_ctl a later ask would cost; NIO would ignore an ask this early and io_uring fails it (its channel has
     * no registration to submit a read to), so with those the pipeline asks once the channel is registered.
     */
    public static void readOnceRegistered(Channel ch) {
        ch.config().setAutoRead(false);
        if (KIND == TransportKind.EPOLL) {
            ch.unsafe().beginRead();
        }
    }

    /**
     * Keeps a channel whose peer half-closed able to wait for room to write. Call it on ChannelInputShutdownEvent, for
     * a channel that stays open to write: with either native transport of Netty 4.2.18, a later write that finds the
     * socket full would otherwise wait for good. io_uring: see {@link UringRoomWatch}. Epoll follows.
     *
     * <p>Netty 4.2.18 (epoll) clears EPOLLIN and EPOLLRDHUP once the input ended; an interest set left empty makes
     * its IoRegistration delete the socket from epoll (EPOLL_CTL_DEL) yet go on treating it as added, so the EPOLLOUT
     * of the next write that finds the socket full goes out as EPOLL_CTL_MOD, fails (ENOENT), and Netty shuts the
     * output with the rest unsent. EPOLLET keeps the set from being empty: the input needs no watching any more, and
     * Netty writes until the socket is full before it waits for EPOLLOUT, as an edge-triggered writer must. (EPOLLERR
     * would do too, but a socket hung up both ways would then wake every epoll_wait until closed.) One epoll_ctl per
     * such connection; setFlag is protected, hence the reflection.
     */
    public static void keepWritableAfterInputEnds(Channel ch) {
        if (ch instanceof EpollSocketChannel) {
            keepInEpoll(ch);
        } else if (!(ch instanceof NioSocketChannel)) {
            UringRoomWatch.watch(ch); // io_uring
        }
    }

    /**
     * Readies a connection that starts with a TLS handshake: with io_uring its handshake writes go out as soon as they
     * are flushed ({@link UringHandshakeFlush}). Call before the TLS handlers are added.
     */
    public static void prepareTlsConnection(Channel ch) {
        if (KIND == TransportKind.IO_URING) {
            UringHandshakeFlush.addTo(ch);
        }
    }

    /**
     * Holds a listening channel's accepting off after an accept failed, until released; auto-read off does the same
     * with epoll and NIO. io_uring: see {@link UringAcceptHold}.
     */
    static void holdAccepts(Channel listener, boolean hold) {
        if (HOLD_ACCEPTS) {
            UringAcceptHold.set(listener, hold);
        }
    }

    private static void keepInEpoll(Channel ch) {
        if (SET_EPOLL_FLAG == null) {
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
