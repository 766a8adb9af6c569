package io.kontena.lb.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/** Serves one connection of a {@link WhoAmI} instance; bodies are streamed, never held whole. */
final class WhoAmIHandler extends ChannelInboundHandlerAdapter {
    private static final int PIECE = 64 * 1024;
    /** Larger than Netty's 64 KB default, so tests can send big messages through the load balancer. */
    private static final int MAX_WEBSOCKET_FRAME = 16 * 1024 * 1024;

    private final String name;
    private HttpRequest request;
    private long bodyBytes;
    private final CRC32 crc = new CRC32();
    private WebSocketServerHandshaker handshaker;
    private final java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream();

    WhoAmIHandler(String name) {
        this.name = name;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof WebSocketFrame frame) {
            onFrame(ctx, frame);
            return;
        }
        if (msg instanceof HttpRequest req) {
            request = req;
            bodyBytes = 0;
            crc.reset();
            if (HttpUtil.is100ContinueExpected(req)) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
            }
            if ("websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.UPGRADE))) {
                request = null;
                upgrade(ctx, req);
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            ByteBuf b = content.content();
            bodyBytes += b.readableBytes();
            if (b.hasArray()) {
                crc.update(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
            } else {
                crc.update(b.nioBuffer());
            }
            content.release();
            if (content instanceof LastHttpContent && request != null) {
                HttpRequest req = request;
                request = null;
                answer(ctx, req);
            }
        }
    }

    private void answer(ChannelHandlerContext ctx, HttpRequest req) {
        QueryStringDecoder query = new QueryStringDecoder(req.uri());
        Map<String, List<String>> params = query.parameters();
        long wait = params.containsKey("wait") ? Long.parseLong(params.get("wait").get(0)) : 0;
        long pace = params.containsKey("pace") ? Long.parseLong(params.get("pace").get(0)) : 0;
        Runnable reply = params.containsKey("size")
                ? () -> sendSized(ctx, req, Long.parseLong(params.get("size").get(0)), pace)
                : () -> sendText(ctx, req);
        if (wait > 0) {
            ctx.executor().schedule(reply, wait, TimeUnit.MILLISECONDS);
        } else {
            reply.run();
        }
    }

    private void sendText(ChannelHandlerContext ctx, HttpRequest req) {
        StringBuilder s = new StringBuilder()
                .append("instance: ").append(name).append('\n')
                .append("request: ").append(req.method()).append(' ').append(req.uri()).append(' ')
                .append(req.protocolVersion()).append('\n');
        req.headers().forEach(h -> s.append(h.getKey().toLowerCase()).append(": ").append(h.getValue()).append('\n'));
        s.append("body-bytes: ").append(bodyBytes).append('\n')
                .append("body-crc32: ").append(Long.toHexString(crc.getValue())).append('\n');
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .set(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes())
                .set("X-Instance", name);
        write(ctx, req, res);
    }

    /** A body of exactly {@code size} bytes, written as the connection drains or at a pace (see SizedBody). */
    private void sendSized(ChannelHandlerContext ctx, HttpRequest req, long size, long pace) {
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                .set(HttpHeaderNames.CONTENT_LENGTH, size)
                .set("X-Instance", name);
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.write(res);
        new SizedBody(ctx, size, keepAlive, pace).next();
    }

    private void write(ChannelHandlerContext ctx, HttpRequest req, FullHttpResponse res) {
        if (HttpUtil.isKeepAlive(req)) {
            ctx.writeAndFlush(res);
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void upgrade(ChannelHandlerContext ctx, HttpRequest req) {
        String url = "ws://" + req.headers().get(HttpHeaderNames.HOST) + req.uri();
        DefaultFullHttpRequest full = new DefaultFullHttpRequest(req.protocolVersion(), req.method(), req.uri(),
                Unpooled.EMPTY_BUFFER, req.headers(), io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
        handshaker = new WebSocketServerHandshakerFactory(url, null, true, MAX_WEBSOCKET_FRAME)
                .newHandshaker(full);
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
            return;
        }
        handshaker.handshake(ctx.channel(), full);
    }

    private void onFrame(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof TextWebSocketFrame
                || frame instanceof io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame) {
            // A message may come in fragments: echo it once whole.
            ByteBuf data = frame.content();
            byte[] bytes = new byte[data.readableBytes()];
            data.getBytes(data.readerIndex(), bytes);
            message.writeBytes(bytes);
            boolean last = frame.isFinalFragment();
            frame.release();
            if (last) {
                String text = message.toString(StandardCharsets.UTF_8);
                message.reset();
                ctx.writeAndFlush(new TextWebSocketFrame(name + ": " + text));
            }
        } else if (frame instanceof io.netty.handler.codec.http.websocketx.CloseWebSocketFrame) {
            handshaker.close(ctx.channel(), (io.netty.handler.codec.http.websocketx.CloseWebSocketFrame) frame);
        } else if (frame instanceof io.netty.handler.codec.http.websocketx.PingWebSocketFrame) {
            ctx.writeAndFlush(new io.netty.handler.codec.http.websocketx.PongWebSocketFrame(frame.content()));
        } else {
            frame.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** Writes the next piece when the previous one left the socket buffer writable, or every pace ms if above 0. */
    private static final class SizedBody {
        private final ChannelHandlerContext ctx;
        private final boolean keepAlive;
        private final long pace;
        private long left;

        SizedBody(ChannelHandlerContext ctx, long size, boolean keepAlive, long pace) {
            this.ctx = ctx;
            this.left = size;
            this.keepAlive = keepAlive;
            this.pace = pace;
        }

        void next() {
            while (left > 0 && ctx.channel().isActive()) {
                int n = (int) Math.min(PIECE, left);
                left -= n;
                ByteBuf piece = ctx.alloc().buffer(n);
                piece.writerIndex(n); // content does not matter; the size does
                // The last piece always goes with the end of the body: a client may send its next request as
                // soon as it has all the bytes, and the answer to it must not find this body unfinished.
                if (pace > 0 && left > 0) {
                    ctx.writeAndFlush(new DefaultHttpContent(piece));
                    ctx.executor().schedule(this::next, pace, TimeUnit.MILLISECONDS);
                    return;
                }
                if (!ctx.channel().isWritable() && left > 0) {
                    ctx.writeAndFlush(new DefaultHttpContent(piece)).addListener(f -> {
                        if (f.isSuccess()) {
                            next();
                        }
                    });
                    return;
                }
                ctx.write(new DefaultHttpContent(piece));
            }
            if (ctx.channel().isActive()) {
                var done = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                if (!keepAlive) {
                    done.addListener(ChannelFutureListener.CLOSE);
                }
            }
        }
    }

}
