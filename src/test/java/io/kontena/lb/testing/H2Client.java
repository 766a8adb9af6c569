package io.kontena.lb.testing;

import io.kontena.lb.proxy.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;

/**
 * An HTTP/2 client over TLS (ALPN {@code h2} only) on one connection, built from Netty's frame codec, so that a test
 * chooses the SNI name, {@code :authority}, when each DATA frame goes out and whether the response is read.
 * Certificates are not checked: tests look at which one they got elsewhere.
 */
public final class H2Client implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private final EventLoopGroup loop = Transport.eventLoops(1, "h2-client");
    private final Channel channel;
    private final AtomicReference<Http2GoAwayFrame> goAway = new AtomicReference<>();
    private final CompletableFuture<Http2Settings> serverSettings = new CompletableFuture<>();

    /** @param sni the server name to send, or null */
    public H2Client(int port, String sni) throws Exception {
        this(port, sni, null);
    }

    /**
     * @param sni         the server name to send, or null
     * @param proxyHeader a PROXY protocol header to send before the handshake, as a load balancer in front does; or
     *                    null
     */
    public H2Client(int port, String sni, String proxyHeader) throws Exception {
        SslContext tls = SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                .build();
        CompletableFuture<String> negotiated = new CompletableFuture<>();
        channel = new Bootstrap().group(loop).channel(Transport.socketChannel())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        SslHandler ssl = sni == null ? tls.newHandler(ch.alloc())
                                : tls.newHandler(ch.alloc(), sni, port);
                        ssl.handshakeFuture().addListener(f -> {
                            if (f.isSuccess()) {
                                negotiated.complete(String.valueOf(ssl.applicationProtocol()));
                            } else {
                                negotiated.completeExceptionally(f.cause());
                            }
                        });
                        if (proxyHeader != null) {
                            // the handshake starts when the connection does: the header goes out ahead of it
                            ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
                                @Override
                                public void connect(ChannelHandlerContext ctx, SocketAddress remote,
                                                    SocketAddress local, ChannelPromise promise) {
                                    ctx.connect(remote, local, promise);
                                    promise.addListener(f -> {
                                        if (f.isSuccess()) {
                                            ctx.writeAndFlush(Unpooled.copiedBuffer(proxyHeader,
                                                    StandardCharsets.US_ASCII));
                                        }
                                    });
                                }
                            });
                        }
                        ch.pipeline().addLast(ssl, Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        if (msg instanceof Http2GoAwayFrame frame) {
                                            goAway.set(frame.retainedDuplicate());
                                        } else if (msg instanceof Http2SettingsFrame frame) {
                                            serverSettings.complete(frame.settings());
                                        }
                                        ReferenceCountUtil.release(msg);
                                    }
                                });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        String protocol = negotiated.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            close();
            throw new IllegalStateException("the server chose " + protocol + ", not h2");
        }
    }

    /** A GET as one HEADERS frame that ends the stream. */
    public Response get(String authority, String path) throws Exception {
        return open("GET", authority, path, Map.of(), true).response().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** A request with a body sent as one DATA frame. */
    public Response send(String method, String authority, String path, byte[] body) throws Exception {
        Exchange e = open(method, authority, path, Map.of(), false);
        e.send(body, true);
        return e.response().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /**
     * Opens a stream and sends the request headers.
     *
     * @param endStream true for a request without a body
     */
    public Exchange open(String method, String authority, String path, Map<String, String> headers, boolean endStream)
            throws Exception {
        return open(method, authority, path, headers, endStream, true);
    }

    private Exchange open(String method, String authority, String path, Map<String, String> headers,
                          boolean endStream, boolean read) throws Exception {
        Exchange exchange = new Exchange();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(channel).handler(exchange.handler)
                .option(ChannelOption.AUTO_READ, read)
                .open().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        exchange.stream = stream;
        Http2Headers h = new DefaultHttp2Headers().method(method).scheme("https").path(path);
        if (authority != null) {
            h.authority(authority);
        }
        headers.forEach(h::add);
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, endStream)).sync();
        return exchange;
    }

    /** The server's first SETTINGS. */
    public Http2Settings serverSettings() throws Exception {
        return serverSettings.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /**
     * A GET whose response is not read until {@link Exchange#resume()}: the server gets no flow-control window
     * beyond the initial one.
     */
    public Exchange openPaused(String method, String authority, String path) throws Exception {
        Exchange e = open(method, authority, path, Map.of(), true, false);
        e.stream.read(); // one read: the response head (and perhaps a first piece of the body)
        return e;
    }

    /** The GOAWAY the server sent, if any. */
    public Http2GoAwayFrame goAway() {
        return goAway.get();
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    public Channel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        Http2GoAwayFrame frame = goAway.getAndSet(null);
        if (frame != null) {
            frame.release();
        }
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One stream: the request's body goes out piece by piece; the response comes in as it arrives. */
    public static final class Exchange {
        static final int KEPT = 1 << 20;
        private final CompletableFuture<Http2Headers> head = new CompletableFuture<>();
        private final CompletableFuture<Response> response = new CompletableFuture<>();
        private final List<Http2Headers> interim = new ArrayList<>();
        /** The first {@link #KEPT} bytes of the body; all of it is counted and checksummed. */
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final CRC32 crc = new CRC32();
        private final AtomicLong received = new AtomicLong();
        private Http2StreamChannel stream;
        private Http2Headers finalHead;

        private final ChannelInboundHandlerAdapter handler = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (msg instanceof Http2HeadersFrame frame) {
                        onHeaders(frame);
                    } else if (msg instanceof Http2DataFrame frame) {
                        ByteBuf data = frame.content();
                        int n = data.readableBytes();
                        synchronized (body) {
                            crc.update(data.nioBuffer());
                            data.readBytes(body, Math.min(n, Math.max(0, KEPT - body.size())));
                        }
                        received.addAndGet(n);
                        if (frame.isEndStream()) {
                            complete();
                        }
                    } else if (msg instanceof Http2ResetFrame reset) {
                        fail(new IllegalStateException("stream reset by the server: " + reset.errorCode()));
                    }
                } catch (Exception e) {
                    fail(e);
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                fail(new IllegalStateException("stream closed before the response ended"));
            }
        };

        private void onHeaders(Http2HeadersFrame frame) {
            Http2Headers h = frame.headers();
            int status = Integer.parseInt(String.valueOf(h.status()));
            if (finalHead != null) {
                complete(); // trailers
            } else if (status < 200) {
                synchronized (interim) {
                    interim.add(h);
                }
            } else {
                finalHead = h;
                head.complete(h);
                if (frame.isEndStream()) {
                    complete();
                }
            }
        }

        private void complete() {
            synchronized (body) {
                response.complete(new Response(Integer.parseInt(String.valueOf(finalHead.status())), finalHead,
                        body.toByteArray(), received.get(), crc.getValue()));
            }
        }

        private void fail(Exception e) {
            head.completeExceptionally(e);
            response.completeExceptionally(e);
        }

        /** Sends a piece of the request body; {@code last} ends the request. */
        public Exchange send(byte[] bytes, boolean last) throws Exception {
            stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), last)).sync();
            return this;
        }

        public Exchange send(String text, boolean last) throws Exception {
            return send(text.getBytes(StandardCharsets.UTF_8), last);
        }

        /** Completes with the final (non-1xx) response head. */
        public CompletableFuture<Http2Headers> head() {
            return head;
        }

        /** Completes when the stream ends. */
        public CompletableFuture<Response> response() {
            return response;
        }

        /** Interim (1xx) heads received so far. */
        public List<Http2Headers> interim() {
            synchronized (interim) {
                return List.copyOf(interim);
            }
        }

        /** Response body bytes received so far. */
        public long received() {
            return received.get();
        }

        /** Body bytes received so far, as text. */
        public String bodySoFar() {
            synchronized (body) {
                return body.toString(StandardCharsets.UTF_8);
            }
        }

        /** Cancels the stream (RST_STREAM). */
        public void cancel() {
            stream.close().syncUninterruptibly();
        }

        /** Reads the response of a paused exchange from now on. */
        public void resume() {
            stream.eventLoop().execute(() -> {
                stream.config().setAutoRead(true);
                stream.read();
            });
        }
    }

    /**
     * @param body   the body, or its first {@link Exchange#KEPT} bytes when it is longer
     * @param length the body's length
     * @param crc32  the CRC-32 of the whole body
     */
    public record Response(int status, Http2Headers headers, byte[] body, long length, long crc32) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            CharSequence v = headers.get(name);
            return v == null ? null : v.toString();
        }

        /** The instance that answered, from a WhoAmI upstream. */
        public String instance() {
            return header("x-instance");
        }

        /** A line "name: value" of a WhoAmI answer, or null. */
        public String echoed(String name) {
            for (String l : text().split("\n")) {
                if (l.startsWith(name + ": ")) {
                    return l.substring(name.length() + 2);
                }
            }
            return null;
        }
    }
}
