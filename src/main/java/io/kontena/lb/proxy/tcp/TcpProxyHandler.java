package io.kontena.lb.proxy.tcp;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.proxy.ProxyProtocol;
import io.kontena.lb.proxy.Relay;
import io.kontena.lb.proxy.TcpTarget;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.proxy.UpstreamConnector;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts a client of a TCP service: picks an upstream, connects (trying up to three upstreams), then relays
 * bytes both ways. The service is looked up when the client arrives, so a changed service applies to new
 * connections while open ones continue with the upstream they have. The client is read while the upstream
 * connects (with epoll, its listener asked for a read when it accepted it): what arrives meanwhile, up to about
 * {@link #EARLY_LIMIT} bytes (the check is made after each read), is sent first.
 */
public final class TcpProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TcpProxyHandler.class);
    private static final Logger access = LoggerFactory.getLogger("access");
    private static final int MAX_TRIES = 3;
    /** Bytes read from the client before the upstream is connected past which reading waits for the relay. */
    private static final int EARLY_LIMIT = 64 * 1024;

    private final Supplier<TcpTarget> target;
    private final UpstreamConnector connector;
    private boolean started;
    /** What the client sent before the upstream was connected: sent first. */
    private final List<Object> early = new ArrayList<>(1);
    private int earlyBytes;
    /** The client ended its side before the upstream was connected: the relay is told once it is in place. */
    private boolean clientInputShut;
    /** Likewise, the client's TLS close_notify, which ends its side too (see {@link Relay}). */
    private boolean clientCloseNotify;

    private final boolean accessLog;
    private final long startNanos = System.nanoTime();

    /** @param accessLog write a line per connection when it ends, as the HTTP listeners write one per request */
    public TcpProxyHandler(Supplier<TcpTarget> target, UpstreamConnector connector, boolean accessLog) {
        this.target = target;
        this.connector = connector;
        this.accessLog = accessLog;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start(ctx); // added after a TLS handshake: channelActive has passed already
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        early.add(msg);
        if (msg instanceof ByteBuf buf) {
            earlyBytes += buf.readableBytes();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // Asking again keeps the socket's read interest in epoll as it is: letting it lapse here and asking again
        // when the relay starts would cost two epoll_ctl calls.
        if (earlyBytes < EARLY_LIMIT && ctx.channel().isActive()) {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            clientInputShut = true;
            Transport.keepWritableAfterInputEnds(ctx.channel()); // the answer is still to be written to it
        } else if (evt instanceof SslCloseCompletionEvent closed && closed.isSuccess()) {
            clientCloseNotify = true;
        } else if (!(evt instanceof ChannelInputShutdownReadComplete)) {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        early.forEach(ReferenceCountUtil::release);
        early.clear();
    }

    private void start(ChannelHandlerContext ctx) {
        if (started) {
            return;
        }
        started = true;
        TcpTarget t = target.get();
        if (t == null) {
            ctx.close();
            return;
        }
        connect(ctx, t, List.of());
    }

    private void connect(ChannelHandlerContext ctx, TcpTarget t, List<Endpoint> tried) {
        Channel client = ctx.channel();
        InetSocketAddress clientAddress = ProxyProtocol.clientOf(client);
        Endpoint endpoint = t.group().select(clientAddress.getAddress(), tried);
        if (endpoint == null) {
            log.warn("{}: no upstream available for {}{}", t.service().name(), clientAddress,
                    tried.isEmpty() ? "" : " after trying " + tried);
            client.close();
            return;
        }
        endpoint.begin();
        connector.connectRelay(client.eventLoop(), endpoint, t.service().timeouts().connect()).addListener(f -> {
                    Channel upstream = ((io.netty.channel.ChannelFuture) f).channel();
                    if (f.isSuccess() && client.isActive()) {
                        long idle = t.service().timeouts().tunnel().toMillis();
                        client.pipeline().addLast(new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
                        early.forEach(msg -> upstream.write(msg, upstream.voidPromise()));
                        early.clear();
                        upstream.flush();
                        Relay.Pair relayed = Relay.join(client, upstream, endpoint::end);
                        if (accessLog) {
                            client.closeFuture().addListener(closed -> logAccess(clientAddress, t, endpoint, relayed));
                        }
                        // From here, so that only the handlers after this one (the relay) see them again.
                        if (clientCloseNotify) {
                            ctx.fireUserEventTriggered(SslCloseCompletionEvent.SUCCESS);
                        }
                        if (clientInputShut) {
                            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                        }
                        ctx.pipeline().remove(this);
                    } else {
                        endpoint.end();
                        if (upstream.isRegistered()) { // else no socket was had: nothing to close
                            upstream.close();
                        }
                        if (!client.isActive()) {
                            return;
                        }
                        endpoint.recordFailure();
                        log.warn("{}: connect to {} failed: {}", t.service().name(), endpoint.upstream(),
                                f.cause() == null ? "client left" : f.cause().getMessage());
                        List<Endpoint> next = new ArrayList<>(tried);
                        next.add(endpoint);
                        if (next.size() < MAX_TRIES) {
                            connect(ctx, t, next);
                        } else {
                            client.close();
                        }
                    }
                });
    }

    /**
     * One line per connection, in the HTTP lines' columns: client, "TCP", service, upstream, no status, the bytes
     * sent to the client, and how long the connection lasted.
     */
    private void logAccess(InetSocketAddress client, TcpTarget t, Endpoint endpoint, Relay.Pair relayed) {
        long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos);
        access.info("{} \"TCP\" {} {} - {} {}.{}ms", NetUtil.toAddressString(client.getAddress()),
                t.service().name(), endpoint.upstream(), relayed.fromB().bytes(), micros / 1000,
                String.format("%03d", micros % 1000));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
