package io.kontena.lb.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kontena.lb.config.BasicAuth;
import io.kontena.lb.proxy.InheritedSockets;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.proxy.http.BasicAuthCheck;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The admin API: {@code GET /api/config} (the applied configuration, its generation and what was rejected),
 * {@code GET /metrics}, {@code GET /} (the statistics page, {@link StatsPage}) and {@code GET /api/health} (200 while
 * serving). When the load balancer has a STATS_PASSWORD, all but the health check ask for user {@value #USER} and
 * that password, as Kontena's statistics page did. It has its own event loop, so it answers even when the data plane
 * is saturated.
 */
public final class AdminServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String USER = "stats";
    private static final String REALM = "kontena-lb";

    private final EventLoopGroup loop;
    private final Channel channel;

    private AdminServer(EventLoopGroup loop, Channel channel) {
        this.loop = loop;
        this.channel = channel;
    }

    /**
     * @param view      the current state, built on each request
     * @param password  the statistics password of the configuration in place, if it has one
     * @param inherited sockets handed over by a previous process; the one bound to host:port is served on
     */
    public static AdminServer start(String host, int port, Supplier<Map<String, Object>> view,
                                    Supplier<String> metrics, Supplier<Optional<String>> password,
                                    InheritedSockets inherited) {
        EventLoopGroup loop = Transport.eventLoops(1, "admin");
        Supplier<Optional<BasicAuthCheck>> login = logins(password);
        try {
            ServerBootstrap b = new ServerBootstrap().group(loop)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                    new Handler(view, metrics, login));
                        }
                    });
            return new AdminServer(loop, inherited.bind(b, new InetSocketAddress(host, port)));
        } catch (RuntimeException e) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot start the admin API on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /**
     * The check of the password in place, as the data plane checks a service's users; made again when the password
     * changes, so that what it remembers is about the password in place.
     */
    private static Supplier<Optional<BasicAuthCheck>> logins(Supplier<Optional<String>> password) {
        AtomicReference<Map.Entry<String, BasicAuthCheck>> last = new AtomicReference<>();
        return () -> password.get().map(p -> {
            Map.Entry<String, BasicAuthCheck> check = last.get();
            if (check == null || !check.getKey().equals(p)) {
                check = Map.entry(p, new BasicAuthCheck(REALM, new BasicAuth(List.of(new BasicAuth.User(USER, p,
                        false)))));
                last.set(check);
            }
            return check.getValue();
        });
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The listening socket, for a hand-over to a new process (native transports only). */
    public FileDescriptor socket() {
        return ((UnixChannel) channel).fd();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Supplier<Map<String, Object>> view;
        private final Supplier<String> metrics;
        private final Supplier<Optional<BasicAuthCheck>> login;

        Handler(Supplier<Map<String, Object>> view, Supplier<String> metrics, Supplier<Optional<BasicAuthCheck>> login) {
            this.view = view;
            this.metrics = metrics;
            this.login = login;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
            String path = new QueryStringDecoder(req.uri()).path();
            FullHttpResponse res;
            Optional<BasicAuthCheck> check = path.equals("/api/health") ? Optional.empty() : login.get();
            if (check.isPresent() && !check.get().allows(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
                res = json(HttpResponseStatus.UNAUTHORIZED, Map.of("error", "user " + USER
                        + " and the load balancer's STATS_PASSWORD are asked for"));
                res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, check.get().challenge());
            } else if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
                res = json(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "only GET and HEAD are supported"));
            } else if (path.equals("/")) {
                res = response(HttpResponseStatus.OK, StatsPage.html(view.get()).getBytes(StandardCharsets.UTF_8),
                        "text/html; charset=utf-8");
            } else if (path.equals("/api/config")) {
                res = json(HttpResponseStatus.OK, view.get());
            } else if (path.equals("/api/health")) {
                res = json(HttpResponseStatus.OK, Map.of("status", "serving"));
            } else if (path.equals("/metrics")) {
                res = response(HttpResponseStatus.OK, metrics.get().getBytes(StandardCharsets.UTF_8),
                        "text/plain; version=0.0.4; charset=utf-8");
            } else {
                res = json(HttpResponseStatus.NOT_FOUND, Map.of("error", "no such resource: " + path
                        + "; try / (the statistics page), /api/config, /api/health or /metrics"));
            }
            if (HttpUtil.isKeepAlive(req)) {
                ctx.writeAndFlush(res);
            } else {
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            }
        }

        private static FullHttpResponse json(HttpResponseStatus status, Object body) throws Exception {
            return response(status, JSON.writeValueAsBytes(body), "application/json");
        }

        private static FullHttpResponse response(HttpResponseStatus status, byte[] body, String contentType) {
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType).set(HttpHeaderNames.CONTENT_LENGTH, body.length);
            return res;
        }
    }
}
