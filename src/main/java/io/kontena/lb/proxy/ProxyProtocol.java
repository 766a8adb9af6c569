package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ServerChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PROXY protocol (v1 and v2, as HAProxy defines it), for a load balancer behind another one that passes the
 * client's address on in a header at the start of each connection. The connection's own handlers are added once the
 * header is read; until then nothing else of it is read. The address it gives stands for the connection's peer
 * wherever the client matters: X-Forwarded-For, source balancing, the access log.
 */
public final class ProxyProtocol {
    private static final Logger log = LoggerFactory.getLogger(ProxyProtocol.class);
    private static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("kontena-lb.client");
    /** The port the client connected to, on the load balancer in front. */
    private static final AttributeKey<Integer> PORT = AttributeKey.valueOf("kontena-lb.port");

    private ProxyProtocol() {
    }

    /**
     * The client of a connection: the address its PROXY header gave, else its peer's. An HTTP/2 stream asks its
     * connection.
     */
    public static InetSocketAddress clientOf(Channel ch) {
        InetSocketAddress given = given(ch, CLIENT);
        return given != null ? given : (InetSocketAddress) ch.remoteAddress();
    }

    /**
     * The port the client connected to: the one its PROXY header gave (the load balancer in front's), else this
     * connection's own. An HTTP/2 stream asks its connection.
     */
    public static int portOf(Channel ch) {
        Integer given = given(ch, PORT);
        return given != null ? given : ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** What the connection's PROXY header gave, or null; an HTTP/2 stream's connection is asked for a stream. */
    private static <T> T given(Channel ch, AttributeKey<T> key) {
        T given = ch.attr(key).get();
        if (given == null && ch.parent() != null && !(ch.parent() instanceof ServerChannel)) {
            given = ch.parent().attr(key).get();
        }
        return given;
    }

    /**
     * Reads a new connection's PROXY header, then hands the connection to {@code then}, which adds its handlers.
     * A connection that does not start with one, or sends none within {@code timeout}, is closed.
     */
    static void expect(Channel ch, Duration timeout, Consumer<Channel> then) {
        ch.pipeline().addLast(new HAProxyMessageDecoder(), new Header(timeout, then));
        ch.read(); // auto-read is off; with epoll the listener has asked for a read already
    }

    private static final class Header extends ChannelInboundHandlerAdapter {
        private final Duration timeout;
        private final Consumer<Channel> then;
        private ScheduledFuture<?> timer;
        private boolean done;

        Header(Duration timeout, Consumer<Channel> then) {
            this.timeout = timeout;
            this.then = then;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            timer = ctx.executor().schedule(() -> {
                log.debug("{} sent no PROXY header within {} ms", ctx.channel().remoteAddress(), timeout.toMillis());
                ctx.close();
            }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            timer.cancel(false);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage header)) {
                ReferenceCountUtil.release(msg); // nothing but the header comes before the connection's handlers
                return;
            }
            try {
                // LOCAL: the load balancer in front speaks for itself (a health check): the peer is the client.
                HAProxyProxiedProtocol.AddressFamily family = header.proxiedProtocol().addressFamily();
                if (header.command() == HAProxyCommand.PROXY && (family == HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                        || family == HAProxyProxiedProtocol.AddressFamily.AF_IPv6)) {
                    // From the literal only (a scope such as %eth0 would make the JDK look an interface up, and an
                    // address it cannot resolve would stand for no client): else the peer stays the client.
                    InetAddress source = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
                    if (source != null) {
                        ctx.channel().attr(CLIENT).set(new InetSocketAddress(source, header.sourcePort()));
                        ctx.channel().attr(PORT).set(header.destinationPort());
                    }
                }
            } finally {
                header.release();
            }
            done = true;
            ctx.pipeline().remove(this);
            // After the decoder, which passes what followed the header on to them as it leaves.
            then.accept(ctx.channel());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!done) {
                ctx.read(); // the header may come in pieces
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{}: no PROXY protocol header: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
