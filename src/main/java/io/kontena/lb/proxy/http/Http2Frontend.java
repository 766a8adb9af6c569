package io.kontena.lb.proxy.http;

import io.kontena.lb.proxy.DrainEvent;
import io.kontena.lb.proxy.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/2 client connections (negotiated by ALPN on TLS listeners), proxied to HTTP/1.1 upstreams.
 *
 * <p>Each stream is a child channel on the connection's event loop with the same {@link FlowControlHandler} and
 * {@link HttpProxyHandler} as an HTTP/1.x connection, behind an {@link Http2StreamCodec} that turns frames into
 * HTTP/1.x messages and back. So routing, header rules, retries, limits, timeouts, upstream pooling and the
 * access log are the same for both. A stream's writability follows its flow-control window, so a client that
 * reads slowly stops the reads from its upstream, as on HTTP/1.x; request bodies are read from a stream only as its
 * upstream takes them, and the client gets more window only for what was read.
 *
 * <p>The connection itself is read continuously while it is writable (the streams' windows bound what it can
 * hold) and closed with a GOAWAY once it has had no stream for the keep-alive time, or when its listener closes
 * ({@link DrainEvent}: a removed port, a shutdown, a hand-over): streams in progress finish first. A client that
 * ends its side of the connection (a half-close) gets the GOAWAY at once, and the answers of its streams whose
 * requests it had sent whole; a stream whose request it had not ended is reset, as the rest can never come.
 */
public final class Http2Frontend {
    private static final Logger log = LoggerFactory.getLogger(Http2Frontend.class);

    /** As HAProxy's and nginx's defaults: enough for a browser, few enough to bound one client's share. */
    static final int MAX_CONCURRENT_STREAMS = 100;
    /** The request line's parts are pseudo-headers in HTTP/2, so both HTTP/1.x limits add up to this one. */
    static final int MAX_HEADER_LIST_SIZE = HttpLimits.MAX_INITIAL_LINE + HttpLimits.MAX_HEADER_SIZE;

    /**
     * How long a closing connection waits for its open streams after the GOAWAY (the builder's default is not at
     * all); the runtime's own drain timeout cuts it short when it is shorter.
     */
    static final Duration GRACEFUL_CLOSE = Duration.ofSeconds(30);

    private static final ChannelHandler FRAMES_TO_MESSAGES = new Http2StreamCodec();

    private Http2Frontend() {
    }

    /** The pipeline of a client connection that chose {@code h2}, after the TLS handler. */
    public static void initPipeline(ChannelPipeline p, HttpListenerContext lc) {
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(MAX_HEADER_LIST_SIZE))
                .gracefulShutdownTimeoutMillis(GRACEFUL_CLOSE.toMillis())
                .build();
        p.addLast("idle", new IdleStateHandler(0, 0, lc.keepAlive().toMillis(), TimeUnit.MILLISECONDS));
        p.addLast("flushes", new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        p.addLast("h2", codec);
        p.addLast("streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                // Reads are asked for by the proxy handler, one message at a time, as on HTTP/1.x.
                ch.config().setAutoRead(false);
                ch.pipeline().addLast("codec", FRAMES_TO_MESSAGES);
                ch.pipeline().addLast("flow", new FlowControlHandler());
                ch.pipeline().addLast("proxy", new HttpProxyHandler(lc));
            }
        }));
        p.addLast("connection", new ConnectionReader(codec));
    }

    /** Reads the connection while it is writable; closes it when it has been idle without streams. */
    private static final class ConnectionReader extends ChannelInboundHandlerAdapter {
        private final Http2FrameCodec codec;

        ConnectionReader(Http2FrameCodec codec) {
            this.codec = codec;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive()) {
                ctx.read(); // the client's preface, which may have arrived with the handshake
            }
        }

        /** Connection-level frames (settings, ping, goaway) the codec has acted on already. */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.fireChannelReadComplete();
            readIfWritable(ctx.channel());
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.fireChannelWritabilityChanged();
            readIfWritable(ctx.channel());
        }

        private static void readIfWritable(Channel ch) {
            if (ch.isActive() && ch.isWritable()) {
                ch.read();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Http2Exception {
            if (evt instanceof IdleStateEvent) {
                // A stream waiting on a slow upstream is no idle connection: its own timers apply.
                if (codec.connection().numActiveStreams() == 0) {
                    ctx.close(); // through the codec, which sends GOAWAY first
                }
                return;
            }
            if (evt instanceof ChannelInputShutdownEvent) {
                // The client ended its side: no new stream can come. Its streams whose requests arrived whole are
                // still answered, so the connection stays able to write (see Transport) and closes gracefully.
                Transport.keepWritableAfterInputEnds(ctx.channel());
                resetUnfinishedRequests(ctx);
                ctx.close();
                return;
            }
            if (evt instanceof DrainEvent) {
                // The listener closed: GOAWAY now, so the client opens its next streams elsewhere, while the
                // streams in progress finish (the drain timeout closes what outlasts it).
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        /**
         * Resets the streams whose requests the client had not ended: the rest can never come. Their exchanges end
         * as when an HTTP/1.x client leaves in the middle of a body (the upstream connection is closed, never
         * pooled, and the access log says 499), and the graceful close waits for none of them.
         */
        private void resetUnfinishedRequests(ChannelHandlerContext ctx) throws Http2Exception {
            ChannelHandlerContext codecCtx = ctx.pipeline().context(codec);
            codec.connection().forEachActiveStream(stream -> {
                if (stream.state().remoteSideOpen()) {
                    codec.resetStream(codecCtx, stream.id(), Http2Error.CANCEL.code(), codecCtx.newPromise());
                }
                return true;
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("HTTP/2 connection {} failed", ctx.channel(), cause);
            ctx.close();
        }
    }
}
