package io.kontena.lb.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.List;

/**
 * Makes an HTTP/2 stream look to {@link HttpProxyHandler} like an HTTP/1.1 connection that carries one exchange,
 * which is what a stream is: Netty's conversion between stream frames and HTTP/1.x messages, with the differences
 * below. One instance serves every stream.
 *
 * <p>Requests: a request that arrives whole (headers with end of stream) is passed on as head and empty end, as the
 * HTTP/1.x codec delivers a request without a body (the base class would build a full request, with a buffer for
 * its no content, only for it to be taken apart); {@code :authority} is the one {@code Host}; the conversion's
 * {@code x-http2-*} bookkeeping headers are dropped; the version reads {@code HTTP/2.0} (for the access log) and
 * {@code Connection: close} says that the stream ends with this exchange (hop by hop, so it never reaches the
 * upstream).
 *
 * <p>Responses: an interim (1xx) answer becomes a headers frame that does not end the stream, and its empty end
 * is dropped; the base class takes interim answers only whole, and the frame codec would end the stream with the
 * empty end. That one state of a stream is an attribute of its channel.
 */
@Sharable
final class Http2StreamCodec extends Http2StreamFrameToHttpObjectCodec {
    static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);

    /** Set while the rest of an interim answer is being dropped. */
    private static final AttributeKey<Boolean> IN_INTERIM = AttributeKey.valueOf(Http2StreamCodec.class, "interim");

    Http2StreamCodec() {
        super(true);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, Http2StreamFrame frame, List<Object> out) throws Exception {
        if (frame instanceof Http2HeadersFrame headers && headers.isEndStream() && headers.headers().method() != null) {
            Http2FrameStream stream = headers.stream();
            HttpRequest head = HttpConversionUtil.toHttpRequest(stream == null ? 0 : stream.id(), headers.headers(),
                    true);
            out.add(adapt(head));
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        super.decode(ctx, frame, out);
        if (!out.isEmpty() && out.get(0) instanceof HttpRequest head) {
            adapt(head); // a request with a body to follow
        }
    }

    private static HttpRequest adapt(HttpRequest request) {
        request.setProtocolVersion(HTTP_2);
        HttpHeaders h = request.headers();
        String host = h.get(HttpHeaderNames.HOST); // :authority comes first when a Host header was sent as well
        if (host != null) {
            h.set(HttpHeaderNames.HOST, host);
        }
        h.remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
        h.remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
        h.set(HttpHeaderNames.CONNECTION, ProxyHeaders.CONNECTION_CLOSE);
        return request;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse response && response.status().code() < 200) {
            ctx.channel().attr(IN_INTERIM).set(msg instanceof LastHttpContent ? null : Boolean.TRUE);
            ctx.write(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(response, true), false), promise);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpContent && inInterim(ctx.channel())) {
            if (msg instanceof LastHttpContent) {
                ctx.channel().attr(IN_INTERIM).set(null);
            }
            ReferenceCountUtil.release(msg);
            promise.trySuccess();
            return;
        }
        super.write(ctx, msg, promise);
    }

    private static boolean inInterim(Channel stream) {
        return stream.hasAttr(IN_INTERIM) && stream.attr(IN_INTERIM).get() != null; // no attribute on most streams
    }
}
