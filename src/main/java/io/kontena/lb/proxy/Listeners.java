package io.kontena.lb.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening sockets and the connections each accepted. Closing a listener stops new connections only: the
 * connections it accepted are told to drain ({@link DrainEvent}) and may finish for up to the drain timeout, after
 * which those still open are closed.
 */
final class Listeners {
    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    private final EventLoopGroup loops;
    private final String bindAddress;
    private final Duration drainTimeout;
    private final InheritedSockets inherited;
    private final AcceptGate gate;
    private final Map<ListenerKey, Listener> open = new HashMap<>();
    /** Connections of closed listeners, until they end or the drain timeout closes them. */
    private final Set<ChannelGroup> draining = ConcurrentHashMap.newKeySet();

    /** A listening socket and the connections it accepted. */
    private static final class Listener {
        final ChannelGroup connections;
        volatile boolean closed;
        Channel server;

        Listener(ListenerKey key) {
            this.connections = new DefaultChannelGroup(key.toString(), GlobalEventExecutor.INSTANCE);
        }
    }

    /** @param maxConnections client connections held at once; 0 for as many as the open-file limit allows */
    Listeners(EventLoopGroup loops, String bindAddress, Duration drainTimeout, InheritedSockets inherited,
              int maxConnections) {
        this.loops = loops;
        this.bindAddress = bindAddress;
        this.drainTimeout = drainTimeout;
        this.inherited = inherited;
        this.gate = new AcceptGate(ConnectionLimit.of(maxConnections), loops);
    }

    /** The most client connections held at once (see {@link AcceptGate}). */
    int maxConnections() {
        return gate.limit();
    }

    boolean isOpen(ListenerKey key) {
        return open.containsKey(key);
    }

    /**
     * Opens a listener and waits until it listens: on the socket inherited from a previous process for its address
     * when there is one (see {@link InheritedSockets}), else on a newly bound socket. It accepts only once
     * {@link #accept} is called: until then the kernel queues the connections that arrive.
     *
     * <p>Accepted connections stay open to write after the client ends its side (a half-close): a TCP relay passes
     * the end on, an HTTP connection still answers what it was sent in full.
     *
     * @param childInit sets up each accepted connection's pipeline
     * @throws ListenException when the address cannot be bound (in use, no permission)
     */
    void open(ListenerKey key, ChannelHandler childInit) {
        InetSocketAddress address = new InetSocketAddress(bindAddress, key.port());
        Listener listener = new Listener(key);
        ChannelHandler tracked = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                listener.connections.add(ch);
                ch.pipeline().addLast(childInit);
                if (listener.closed) {
                    // Accepted while the listener was closing: drain like the others (firing twice is harmless).
                    ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
                }
            }
        };
        ServerBootstrap b = new ServerBootstrap()
                .group(loops)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ListenerHandler(gate, tracked))
                .childHandler(ListenerHandler.NOT_USED);
        try {
            listener.server = inherited.bind(b, address);
            open.put(key, listener);
            gate.add(listener.server);
            log.info("listening on {} for {}", listener.server.localAddress(), key);
        } catch (Exception e) {
            throw new ListenException("cannot listen on " + address.getHostString() + ":" + key.port()
                    + " for " + key + ": " + e.getMessage(), e);
        }
    }

    /** Starts accepting on a listener that {@link #open} opened. */
    void accept(ListenerKey key) {
        inherited.accept(open.get(key).server);
    }

    /** Stops accepting on a listener; its connections drain. */
    void close(ListenerKey key) {
        Listener l = open.remove(key);
        if (l == null) {
            return;
        }
        l.closed = true;
        gate.remove(l.server);
        l.server.close().syncUninterruptibly();
        log.info("stopped listening on {} for {}", l.server.localAddress(), key);
        draining.add(l.connections);
        for (Channel ch : l.connections) {
            ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        }
        loops.schedule(() -> {
            if (!l.connections.isEmpty()) {
                log.warn("drain timeout: closing {} connection(s) of {}", l.connections.size(), key);
            }
            cut(l.connections);
            draining.remove(l.connections);
        }, drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    void closeAll() {
        for (ListenerKey key : keys()) {
            close(key);
        }
    }

    Set<ListenerKey> keys() {
        return Set.copyOf(open.keySet());
    }

    /** The port a listener is bound to (the chosen one for port 0), or -1 when it is not open. */
    int boundPort(ListenerKey key) {
        Listener l = open.get(key);
        return l == null ? -1 : ((InetSocketAddress) l.server.localAddress()).getPort();
    }

    /** The file descriptors of the listening sockets, for a hand-over to a new process (native transports only). */
    List<FileDescriptor> sockets() {
        return open.values().stream().map(l -> ((UnixChannel) l.server).fd()).toList();
    }

    /** Client connections open, on open and on draining listeners. */
    int connectionCount() {
        return gate.open();
    }

    /** Closes every client connection at once. */
    void closeConnections() {
        open.values().forEach(l -> cut(l.connections));
        draining.forEach(Listeners::cut);
        open.values().forEach(l -> l.connections.newCloseFuture().awaitUninterruptibly(5, TimeUnit.SECONDS));
        draining.forEach(g -> g.newCloseFuture().awaitUninterruptibly(5, TimeUnit.SECONDS));
        draining.clear();
    }

    /**
     * Closes connections at once, past the pipeline's goodbyes (an HTTP/2 GOAWAY would wait for the streams in
     * progress): their time is up.
     */
    private static void cut(ChannelGroup connections) {
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> ch.unsafe().close(ch.unsafe().voidPromise()));
        }
    }

    /**
     * Takes each accepted connection: counts it and has the gate pick its event loop (see {@link AcceptGate}), sets
     * it up and registers it there, in place of Netty's acceptor (which hands connections to the loops in turn).
     *
     * <p>Each pipeline reads its client at once, and asked before the socket is added to epoll, the interest goes in
     * with the add instead of costing an epoll_ctl of its own. Auto-read is turned off here rather than as a child
     * option, which would be applied later and drop the interest again. With io_uring and NIO nothing is asked this
     * early (see {@link Transport#readOnceRegistered}): the HTTP pipelines ask when they start, and a TCP client is
     * first read when its relay is joined. TCP_NODELAY is Netty's default for its socket channels: setting it again
     * would cost a system call per connection.
     *
     * <p>A failed accept goes to the gate, which stops accepting for a while, instead of on to Netty's acceptor,
     * which would stop this listener for a fixed second, and to the pipeline's end, which would log it each time.
     */
    private static final class ListenerHandler extends ChannelInboundHandlerAdapter {
        /** ServerBootstrap wants a child handler for its acceptor, which gets no connection. */
        static final ChannelHandler NOT_USED = new ChannelInboundHandlerAdapter();

        private final AcceptGate gate;
        private final ChannelHandler childInit;

        ListenerHandler(AcceptGate gate, ChannelHandler childInit) {
            this.gate = gate;
            this.childInit = childInit;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                EventLoop loop = gate.accepted(child);
                Transport.readOnceRegistered(child);
                child.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
                child.pipeline().addLast(childInit);
                loop.register(child); // a registration that fails closes the channel
            } else {
                ctx.fireChannelRead(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            gate.acceptFailed(ctx.channel(), cause);
        }
    }

    /** A listener that could not be opened. */
    static final class ListenException extends RuntimeException {
        ListenException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
