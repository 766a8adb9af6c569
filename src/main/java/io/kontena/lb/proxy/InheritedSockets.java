package io.kontena.lb.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ServerChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listening sockets handed over by the process this one replaces. A listener of this process claims the socket
 * bound to its address instead of binding a new one, so the port never stops accepting: the kernel's queue of
 * connections not yet accepted goes with the socket. A claimed socket accepts nothing until {@link #serve()}, so a
 * process that fails to start never takes a connection the old one would have served; the old one keeps accepting
 * on the same sockets meanwhile.
 */
public final class InheritedSockets implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InheritedSockets.class);

    private final List<ServerChannel> unclaimed;
    private final List<Channel> claimed = new ArrayList<>();

    /** @param sockets bound, listening and not registered */
    public InheritedSockets(List<? extends ServerChannel> sockets) {
        this.unclaimed = new ArrayList<>(sockets);
    }

    public static InheritedSockets none() {
        return new InheritedSockets(List.of());
    }

    /**
     * Makes {@code b} listen on {@code address}: on the inherited socket bound to it when there is one, else on a
     * newly bound socket. Neither accepts before {@link #accept}.
     */
    public Channel bind(ServerBootstrap b, InetSocketAddress address) {
        ServerChannel taken = claim(address);
        if (taken == null) {
            return b.channel(Transport.serverChannel()).bind(address).syncUninterruptibly().channel();
        }
        Channel ch = b.channelFactory(() -> taken).register().syncUninterruptibly().channel();
        synchronized (this) {
            claimed.add(ch);
        }
        log.info("took over the listening socket {}", address);
        return ch;
    }

    /** Starts accepting on a socket {@link #bind} gave: a new one at once, an inherited one from {@link #serve()} on. */
    public synchronized void accept(Channel ch) {
        if (!claimed.contains(ch)) {
            ch.config().setAutoRead(true);
        }
    }

    /** This process serves: the claimed sockets start accepting, and this process's copies of the others close. */
    public synchronized void serve() {
        for (Channel ch : claimed) {
            ch.eventLoop().execute(() -> ch.config().setAutoRead(true));
        }
        claimed.clear();
        close();
    }

    /** The inherited socket bound to this address (port 0 never matches: it asks for a new port), or null. */
    synchronized ServerChannel claim(InetSocketAddress wanted) {
        if (wanted.getPort() == 0) {
            return null;
        }
        for (ServerChannel ch : unclaimed) {
            if (sameAddress((InetSocketAddress) ch.localAddress(), wanted)) {
                unclaimed.remove(ch);
                return ch;
            }
        }
        return null;
    }

    static boolean sameAddress(InetSocketAddress bound, InetSocketAddress wanted) {
        if (bound == null || bound.getPort() != wanted.getPort()) {
            return false;
        }
        InetAddress a = bound.getAddress();
        InetAddress b = wanted.getAddress();
        // A wildcard bind is 0.0.0.0 on the command line and [::] on a dual-stack socket.
        return a.equals(b) || a.isAnyLocalAddress() && b != null && b.isAnyLocalAddress();
    }

    /** Closes this process's copy of each socket no listener claimed (the claimed ones close with their owner). */
    @Override
    public synchronized void close() {
        for (ServerChannel ch : unclaimed) {
            log.info("not taking over {}: the configuration does not listen there", ch.localAddress());
            ch.unsafe().closeForcibly();
        }
        unclaimed.clear();
    }
}
