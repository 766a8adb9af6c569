package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One of Netty's transports; each gives way to the ones after it where it is not available. */
public enum TransportKind {
    IO_URING("io_uring") {
        @Override
        public Throwable unavailabilityCause() {
            return IoUring.unavailabilityCause();
        }

        @Override
        public IoHandlerFactory ioHandlers() {
            return IoUringIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannel() {
            return IoUringServerSocketChannel.class;
        }

        @Override
        public Class<? extends Channel> socketChannel() {
            return IoUringSocketChannel.class;
        }

        /** Netty 4.2.18's io_uring channel has no constructor for an address family: the default one it is. */
        @Override
        public Channel newSocketChannel(InetSocketAddress remote) {
            return new IoUringSocketChannel();
        }

        @Override
        public ServerChannel adoptListeningSocket(int fd) {
            return UringListeningSocket.adopt(fd);
        }
    },
    EPOLL("epoll") {
        @Override
        public Throwable unavailabilityCause() {
            return Epoll.unavailabilityCause();
        }

        @Override
        public IoHandlerFactory ioHandlers() {
            return EpollIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannel() {
            return EpollServerSocketChannel.class;
        }

        @Override
        public Class<? extends Channel> socketChannel() {
            return EpollSocketChannel.class;
        }

        @Override
        public Channel newSocketChannel(InetSocketAddress remote) {
            return remote.isUnresolved() ? new EpollSocketChannel() : new EpollSocketChannel(family(remote));
        }

        @Override
        public ServerChannel adoptListeningSocket(int fd) {
            return new EpollServerSocketChannel(fd);
        }
    },
    NIO("nio") {
        @Override
        public Throwable unavailabilityCause() {
            return null;
        }

        @Override
        public IoHandlerFactory ioHandlers() {
            return NioIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannel() {
            return NioServerSocketChannel.class;
        }

        @Override
        public Class<? extends Channel> socketChannel() {
            return NioSocketChannel.class;
        }

        @Override
        public Channel newSocketChannel(InetSocketAddress remote) {
            return remote.isUnresolved() ? new NioSocketChannel()
                    : new NioSocketChannel(SelectorProvider.provider(), family(remote));
        }

        @Override
        public ServerChannel adoptListeningSocket(int fd) {
            throw new UnsupportedOperationException("NIO cannot adopt a socket of another process");
        }
    };

    private static final Logger log = LoggerFactory.getLogger(TransportKind.class);

    private final String label;

    TransportKind(String label) {
        this.label = label;
    }

    /** The name an operator gives and the log shows. */
    public String label() {
        return label;
    }

    public boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /** Why this transport cannot run here, or null when it can. */
    public abstract Throwable unavailabilityCause();

    public abstract IoHandlerFactory ioHandlers();

    public abstract Class<? extends ServerChannel> serverChannel();

    public abstract Class<? extends Channel> socketChannel();

    /**
     * An unregistered, unconnected client socket channel of the address family of {@code remote} (the default one while
     * it is unresolved) where the transport lets us choose: an IPv4 socket for an IPv4 address rather than the default
     * dual-stack IPv6 one, which costs a setsockopt(IPV6_V6ONLY) each.
     */
    public abstract Channel newSocketChannel(InetSocketAddress remote);

    /**
     * A channel for a bound, listening TCP socket received from another process, which may have run either native
     * transport: the socket is the kernel's, not the transport's. Not registered; takes ownership of {@code fd}.
     */
    public abstract ServerChannel adoptListeningSocket(int fd);

    /** Whether this transport can hand sockets to, and adopt them from, another process. */
    public boolean canHandOver() {
        return this != NIO;
    }

    /**
     * The transport {@code wanted} names, or io_uring when it names none (null or blank) or names no transport (with
     * a warning). One that is not available here gives way to the next available one: io_uring to epoll (a kernel
     * without it, or a container whose seccomp profile blocks it), epoll to NIO.
     */
    static TransportKind choose(String wanted) {
        boolean named = wanted != null && !wanted.isBlank();
        TransportKind first = named ? byLabel(wanted.trim()) : IO_URING;
        for (TransportKind k : values()) {
            if (k.ordinal() < first.ordinal()) {
                continue;
            }
            Throwable cause = k.unavailabilityCause();
            if (cause == null) {
                return k;
            }
            log.info("the {} transport is not available here: {}", k.label, cause.toString());
        }
        return NIO;
    }

    private static TransportKind byLabel(String label) {
        for (TransportKind k : values()) {
            if (k.label.equals(label.toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        log.warn("{}={}: no such transport (valid: {}); taking the default", Transport.VARIABLE, label,
                Arrays.stream(values()).map(TransportKind::label).collect(Collectors.joining(", ")));
        return IO_URING;
    }

    private static SocketProtocolFamily family(InetSocketAddress remote) {
        return remote.getAddress() instanceof Inet4Address ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
    }
}
