package io.kontena.lb.proxy.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * Makes an HTTP/2 stream look to {@link HttpProxyHandler} like an HTTP/1.1 connection that carries one exchange,
 * which is what a stream is.
 *
 * <p>Requests: a request that arrives whole (headers with end of stream) is passed on as head and end, as the
 * HTTP/1.x codec delivers every request; {@code :authority} is the one {@code Host}; the codec's {@code x-http2-*}
 * bookkeeping headers are dropped; the version reads {@code HTTP/2.0} (for the access log) and {@code Connection:
 * close} says that the stream ends with this exchange (hop by hop, so it never reaches the upstream).
 *
 * <p>Responses: an interim (1xx) answer becomes a headers frame that does not end the stream, and its empty end
 * is dropped; the frame codec would otherwise end the stream with it.
 */
final class Http2StreamAdapter extends ChannelDuplexHandler {
    static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);

    private boolean inInterim;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest full) {
            HttpRequest head = new DefaultHttpRequest(HTTP_2, full.method(), full.uri(), full.headers());
            adapt(head.headers());
            ctx.fireChannelRead(head);
            ctx.fireChannelRead(new DefaultLastHttpContent(full.content()));
        } else if (msg instanceof HttpRequest request) {
            request.setProtocolVersion(HTTP_2);
            adapt(request.headers());
            ctx.fireChannelRead(request);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private static void adapt(HttpHeaders h) {
        String host = h.get(HttpHeaderNames.HOST); // :authority comes first when a Host header was sent as well
        if (host != null) {
            h.set(HttpHeaderNames.HOST, host);
        }
        h.remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
        h.remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response && response.status().code() < 200) {
            inInterim = !(msg instanceof LastHttpContent);
            ctx.write(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(response, true), false), promise);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (inInterim && msg instanceof HttpContent) {
            inInterim = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            promise.trySuccess();
            return;
        }
        ctx.write(msg, promise);
    }
}
