package io.kontena.lb.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.nio.channels.NotYetConnectedException;

/**
 * Relays bytes from its channel to a peer: TCP services and upgraded (WebSocket) HTTP connections.
 * Both channels run with auto-read off and reads follow the peer's writability, so a slow side never
 * makes the other side's bytes pile up in memory. A half-close on one side is passed on to the other;
 * the pair closes when both directions are done.
 */
public final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel peer;
    /** The sender's end has been passed on to the peer. */
    private boolean endPassedOn;
    /** Bytes passed on to the peer, for the access log. */
    private long bytes;

    private Relay(Channel peer) {
        this.peer = peer;
    }

    /**
     * Joins two connected channels and starts reading on both. {@code onClose} runs once {@code a} is closed (for
     * least-connection counts): as it closes, when the listener's count of open connections drops too, rather than at
     * its inactive event, which the event loop delivers later (under io_uring late enough for a test to see the
     * difference).
     */
    public static Pair join(Channel a, Channel b, Runnable onClose) {
        a.closeFuture().addListener(f -> onClose.run());
        Relay fromA = new Relay(b);
        Relay fromB = new Relay(a);
        a.pipeline().addLast("relay", fromA);
        b.pipeline().addLast("relay", fromB);
        read(a);
        read(b);
        return new Pair(fromA, fromB);
    }

    /** The two directions of a joined pair: what each relays from its channel to the other. */
    public record Pair(Relay fromA, Relay fromB) {
    }

    /** Bytes relayed so far from this relay's channel to its peer (read on the channels' event loop). */
    public long bytes() {
        return bytes;
    }

    /**
     * Asks a channel for more unless its input has ended: there is nothing more to read then, and with epoll the
     * ask would cost two epoll_ctl calls (Netty adds EPOLLIN, sees the end again and clears it).
     */
    private static void read(Channel ch) {
        if (!(ch instanceof DuplexChannel d) || !d.isInputShutdown()) {
            ch.read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            bytes += buf.readableBytes();
        }
        peer.write(msg).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
        if (peer.isWritable()) {
            read(ctx.channel());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            read(peer);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            Channel self = ctx.channel();
            if (!(self instanceof DuplexChannel s && s.isOutputShutdown())) {
                // It stays open for what the peer still sends it: now, before Netty drops it from epoll (see Transport).
                Transport.keepWritableAfterInputEnds(self);
            }
            passOnEnd(ctx);
        } else if (evt instanceof SslCloseCompletionEvent closed && closed.isSuccess()) {
            // A TLS sender's close_notify ends its direction as a TCP half-close does (RFC 8446, 6.1), whether or
            // not the end of its TCP stream follows. The answer goes on as long as TLS can still carry it: Netty's
            // OpenSSL engine ends its own direction too when it reads a close_notify (TLS 1.2's rule, RFC 5246,
            // 7.2.1, which it applies to TLS 1.3 as well), so there the first write of the answer fails and closes
            // both sides; the JDK's engine keeps it open under TLS 1.3, and the whole answer goes.
            passOnEnd(ctx);
        } else if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    /**
     * The sender finished: pass the half-close on once everything it sent is written. A TLS peer is closed instead,
     * with a close_notify: a bare end of its TCP stream would look like a truncation attack.
     */
    private void passOnEnd(ChannelHandlerContext ctx) {
        if (endPassedOn) {
            return; // a close_notify, then the end of the TCP stream
        }
        endPassedOn = true;
        Channel self = ctx.channel();
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (self instanceof DuplexChannel s && s.isOutputShutdown()) {
                // The other direction ended first: both are done, and a close ends the peer's output as a
                // half-close would, without a shutdown per side.
                peer.close();
                self.close();
            } else if (peer instanceof DuplexChannel duplexPeer && peer.isActive()
                    && peer.pipeline().get(SslHandler.class) == null) {
                // Once the peer ends its side too, nothing is left to relay: Netty then closes it outright
                // (channelInactive below closes this side) rather than shutting its input down first.
                peer.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
                shutdownOutput(duplexPeer).addListener(done -> closeWhenBothDone(self));
            } else {
                ctx.close();
            }
        });
    }

    /**
     * Ends a channel's output; everything written to it is flushed already and nothing more will be. Netty's
     * shutdownOutput builds an exception with a stack trace each time, to fail writes that might come later: at a
     * high connection rate about 3% of the event loop's time. A socket of a native transport (epoll, io_uring) is
     * shut directly: both channels read the state from the socket. A socket its peer reset already fails with ENOTCONN, which
     * Netty reports as a NotYetConnectedException, not an IOException: the channel closes either way.
     */
    private static ChannelFuture shutdownOutput(DuplexChannel ch) {
        if (ch instanceof UnixChannel unix && unix.fd() instanceof Socket socket) {
            try {
                socket.shutdown(false, true);
                return ch.newSucceededFuture();
            } catch (IOException | NotYetConnectedException e) {
                ch.close();
                return ch.newFailedFuture(e);
            }
        }
        return ch.shutdownOutput();
    }

    private void closeWhenBothDone(Channel self) {
        if (self instanceof DuplexChannel s && peer instanceof DuplexChannel p
                && s.isOutputShutdown() && p.isOutputShutdown()) {
            self.close();
            peer.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
