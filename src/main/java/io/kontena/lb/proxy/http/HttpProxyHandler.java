package io.kontena.lb.proxy.http;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.proxy.DrainEvent;
import io.kontena.lb.proxy.HttpTarget;
import io.kontena.lb.proxy.ProxyProtocol;
import io.kontena.lb.proxy.Relay;
import io.kontena.lb.proxy.Route;
import io.kontena.lb.proxy.RoutingTable;
import io.kontena.lb.proxy.Transport;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proxies the HTTP/1.x requests of one client connection, one exchange at a time: routes each request with
 * the routing table current when it arrives, takes an upstream connection from this event loop's pool (or
 * opens one, trying up to three upstreams), and streams both bodies with reads driven by the other side's
 * writability, so neither a slow client nor a slow upstream makes memory grow. Upgrades become byte relays.
 *
 * <p>Client reads go through a {@code FlowControlHandler}: each {@code read()} yields one HTTP message, so the
 * next pipelined request stays unread until the current exchange is over.
 *
 * <p>A client that ends its side (a half-close, as {@code nc -N} does) is answered what it sent in full, then the
 * connection closes; see {@link #onClientInputEnded}.
 */
public final class HttpProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HttpProxyHandler.class);
    private static final Logger access = LoggerFactory.getLogger("access");
    private static final int MAX_TRIES = 3;
    /** A request with a body cannot be replayed, so it only takes a pooled connection that was used just now. */
    private static final long FRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final HttpListenerContext lc;
    private ChannelHandlerContext ctx;
    private UpstreamPool pool;
    private InetAddress clientAddress;
    private String clientIp;
    private String localPort;
    /** X-Forwarded-For, -Proto and -Port for a request that has none of them; made at the first such request. */
    private HttpHeaders forwarded;
    private boolean firstRequest = true;
    private boolean discarding;
    private boolean readWanted;
    /** The listener closed: this connection ends after its current or next answer. */
    private boolean draining;
    /** The client ended its side: nothing more will come than what has been read (or is queued) already. */
    private boolean inputEnded;

    // The exchange in progress; request == null between exchanges.
    private HttpRequest request;
    private HttpMethod method;
    private String originalUri;
    private HttpVersion clientVersion;
    private HttpTarget target;
    private List<Endpoint> tried = List.of();
    /** The upstreams the request's sticky-session cookies name. */
    private List<String> stickyIds = List.of();
    private Endpoint endpoint;
    private Channel upstream;
    private UpstreamHandler upstreamHandler;
    private boolean reused;
    private boolean forceNew;
    private boolean hasBody;
    private boolean requestDone;
    private boolean bodySent;
    private boolean upgrade;
    private boolean tunnelPending;
    private boolean informational;
    private boolean responseStarted;
    private boolean upstreamKeepAlive;
    private boolean keepAlive;
    private boolean headFlushPending;
    private int status;
    private long bytes;
    private long startNanos;

    private long lastActivity;
    private boolean waitingForRequest;
    private long waitDeadline;
    /**
     * One timer per connection, armed for the earliest time a limit could pass; it is not moved for every request
     * (two schedules and two cancellations per request otherwise): when it fires it checks the limit in force then
     * and re-arms when that has not passed yet.
     */
    private ScheduledFuture<?> timer;
    private long timerDue;
    private final Runnable onTimer = this::onTimer;

    public HttpProxyHandler(HttpListenerContext lc) {
        this.lc = lc;
    }

    /** The pipeline of a client connection to an HTTP listener. */
    public static void initPipeline(ChannelPipeline p, HttpListenerContext lc) {
        p.addLast("codec", new io.netty.handler.codec.http.HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(HttpLimits.MAX_INITIAL_LINE)
                .setMaxHeaderSize(HttpLimits.MAX_HEADER_SIZE)
                .setMaxChunkSize(HttpLimits.MAX_CHUNK_SIZE), HttpLimits.MAX_PIPELINED));
        p.addLast("flow", new io.netty.handler.flow.FlowControlHandler());
        p.addLast("proxy", new HttpProxyHandler(lc));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start(); // added after a TLS handshake: channelActive has passed already
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (pool != null) {
            return;
        }
        InetSocketAddress remote = ProxyProtocol.clientOf(ctx.channel());
        clientAddress = remote.getAddress();
        clientIp = NetUtil.toAddressString(clientAddress); // an IPv6 address in its short form (RFC 5952)
        localPort = Integer.toString(ProxyProtocol.portOf(ctx.channel())); // X-Forwarded-Port
        pool = lc.pools().of(ctx.channel().eventLoop());
        waitForRequest(lc.requestTimeout(), System.nanoTime());
        readClient();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        readWanted = false;
        if (msg instanceof HttpRequest req) {
            onRequest(req);
        } else if (msg instanceof HttpContent content) {
            onRequestContent(content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * Asks for the next client message. The flow control handler counts a read as satisfied when the read batch
     * it was issued in completes, even if the message it asked for has not been decoded yet, so a read still
     * unanswered at the end of a batch is asked for again in {@link #channelReadComplete}.
     */
    private void readClient() {
        readWanted = true;
        ctx.read();
        if (inputEnded && readWanted) {
            clientInputExhausted(); // nothing queued answered the read, and nothing more will come
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (readWanted && ctx.channel().isActive()) {
            ctx.read();
        }
        ctx.fireChannelReadComplete();
    }

    // ---- requests -------------------------------------------------------------------------------------

    private void onRequest(HttpRequest req) {
        if (req.decoderResult().isFailure()) {
            ReferenceCountUtil.release(req);
            rejectMalformed(req.decoderResult().cause());
            return;
        }
        waitingForRequest = false; // the timer, if it fires meanwhile, sees the exchange and re-arms for it
        firstRequest = false;
        request = req;
        method = req.method();
        originalUri = req.uri();
        clientVersion = req.protocolVersion();
        startNanos = System.nanoTime();
        HttpHeaders headers = req.headers();
        int present = ProxyHeaders.scan(headers);
        keepAlive = ProxyHeaders.isKeepAlive(req, present) && !draining;
        hasBody = ProxyHeaders.hasBody(req, present);
        upgrade = ProxyHeaders.isUpgrade(req, present);
        requestDone = false;
        bodySent = false;
        responseStarted = false;
        informational = false;
        tunnelPending = false;
        reused = false;
        forceNew = false;
        tried = List.of();
        stickyIds = List.of();
        target = null;
        status = 0;
        bytes = 0;

        // HTTP/2 requests come from streams, marked by their codec; an HTTP/1.x connection speaks only HTTP/1.x.
        if (clientVersion.majorVersion() != 1 && clientVersion != Http2StreamCodec.HTTP_2) {
            keepAlive = false;
            respondLocal(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "Only HTTP/1.x is spoken here.");
            return;
        }
        if (method.equals(HttpMethod.CONNECT)) {
            // A tunnel to a host the client names is a forward proxy's job; the codecs would garble it anyway.
            keepAlive = false;
            respondLocal(HttpResponseStatus.NOT_IMPLEMENTED, "CONNECT is not served by a load balancer.");
            return;
        }
        if ((present & ProxyHeaders.HOSTS) != 0) {
            // The upstream might pick another of them than routing did (RFC 9112, section 3.2).
            keepAlive = false;
            respondLocal(HttpResponseStatus.BAD_REQUEST, "The request has more than one Host header.");
            return;
        }
        String authority = Route.authority(originalUri);
        String host;
        if (authority != null) {
            // An absolute-form target names the host; the Host header is replaced by it (RFC 9112, section 3.2.2).
            headers.set(HttpHeaderNames.HOST, authority);
            host = authority;
        } else {
            host = (present & ProxyHeaders.HOST) == 0 ? null : headers.get(HttpHeaderNames.HOST);
        }
        if (host == null && clientVersion.equals(HttpVersion.HTTP_1_1)) {
            respondLocal(HttpResponseStatus.BAD_REQUEST, "The request has no Host header.");
            return;
        }
        RoutingTable<HttpTarget> routes = lc.routes().get();
        String answer = routes.answer(originalUri);
        if (answer != null) {
            respondBeforeBody(LocalResponses.text(ctx.alloc(), answer));
            return;
        }
        Route<HttpTarget> route = routes.route(host == null ? "" : host, originalUri);
        if (route == null) {
            respondLocal(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "No service is configured for this host and path.");
            return;
        }
        target = route.target();
        HttpService service = target.service();
        if (service.headers().redirectToHttps() && "http".equals(lc.scheme())) {
            String location = "https://" + HostNames.withoutPort(host == null ? "" : host) + originalUri;
            respond(LocalResponses.redirect(location, 302));
            return;
        }
        // after the redirect: a password is not asked for over plain HTTP when the service wants HTTPS
        if (target.auth() != null && !target.auth().allows(headers.get(HttpHeaderNames.AUTHORIZATION))) {
            FullHttpResponse page = LocalResponses.page(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED,
                    "Service " + service.name() + " needs a user name and password.", true);
            page.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, target.auth().challenge());
            respondBeforeBody(page);
            return;
        }
        if (service.stickyCookie().isPresent()) {
            stickyIds = StickySessions.fromRequest(service.stickyCookie().get(), headers);
        }
        if (forwarded == null) {
            forwarded = ProxyHeaders.forwarded(clientIp, lc.scheme(), localPort);
        }
        ProxyHeaders.toUpstream(req, present, host, route.forwardUri(originalUri), upgrade, clientIp, lc.scheme(),
                localPort, forwarded, service.headers());
        startExchangeTimer(startNanos);
        connectUpstream(startNanos);
    }

    private void onRequestContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (discarding || upstream == null) {
            // The answer was given without an upstream: drop the rest of the request, then take the next one.
            content.release();
            if (last) {
                discarding = false;
            }
            if (request == null || discarding) {
                readClient();
            }
            return;
        }
        long now = System.nanoTime();
        lastActivity = now;
        if (content.content().isReadable()) {
            bodySent = true;
        }
        if (last) {
            requestDone = true;
            // From now on the upstream is the one awaited: its (server) time limit applies.
            startExchangeTimer(now);
        }
        headFlushPending = false;
        upstream.writeAndFlush(content, upstream.voidPromise());
        if (!last && upstream.isWritable()) {
            readClient();
        }
    }

    // ---- upstream connection ---------------------------------------------------------------------------

    /** @param now the current {@link System#nanoTime()} */
    private void connectUpstream(long now) {
        Endpoint sticky = stickyIds.isEmpty() ? null
                : StickySessions.named(stickyIds, target.group().endpoints(), tried);
        Endpoint e = sticky != null ? sticky : target.group().select(clientAddress, tried);
        if (e == null) {
            respondLocal(HttpResponseStatus.SERVICE_UNAVAILABLE, tried.isEmpty()
                    ? "Service " + target.service().name() + " has no upstream available."
                    : "No upstream of service " + target.service().name() + " answered.");
            return;
        }
        endpoint = e;
        e.begin();
        UpstreamHandler pooled = forceNew ? null : pool.acquire(e, hasBody ? FRESH_NANOS : Long.MAX_VALUE, now);
        if (pooled != null) {
            reused = true;
            attach(pooled);
            return;
        }
        reused = false;
        lc.connector().connect(ctx.channel().eventLoop(), e, target.service().timeouts().connect(),
                new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("codec", new HttpClientCodec(
                                HttpLimits.MAX_INITIAL_LINE, HttpLimits.MAX_HEADER_SIZE, HttpLimits.MAX_CHUNK_SIZE));
                        ch.pipeline().addLast(UpstreamHandler.NAME, new UpstreamHandler());
                    }
                }).addListener((ChannelFuture f) -> onConnected(e, f));
    }

    private void onConnected(Endpoint e, ChannelFuture f) {
        if (endpoint != e || request == null) {
            if (f.channel().isRegistered()) { // else no socket was had: nothing to close
                f.channel().close(); // the client left meanwhile
            }
            return;
        }
        if (f.isSuccess()) {
            attach(UpstreamHandler.of(f.channel()));
            return;
        }
        e.end();
        e.recordFailure();
        endpoint = null;
        log.warn("{}: connect to {} failed: {}", target.service().name(), e.upstream(), f.cause().getMessage());
        List<Endpoint> next = new ArrayList<>(tried);
        next.add(e);
        tried = next;
        if (tried.size() < MAX_TRIES) {
            connectUpstream(System.nanoTime());
        } else {
            respondLocal(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "No upstream of service " + target.service().name() + " answered.");
        }
    }

    private void attach(UpstreamHandler handler) {
        Channel ch = handler.channel();
        upstream = ch;
        upstreamHandler = handler;
        handler.own(this);
        ch.write(request, ch.voidPromise());
        if (requestDone) {
            // A retry after a pooled connection failed: the (empty) end of the request was already consumed.
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
        }
        headFlushPending = true;
        ch.read();
        if (!requestDone) {
            // Usually hands over the end of a bodiless request at once, so head and end go in one flush.
            readClient();
        }
        if (headFlushPending && upstream == ch) {
            headFlushPending = false;
            ch.flush();
        }
    }

    void onUpstreamWritable() {
        if (!requestDone && upstream != null) {
            readClient();
        }
    }

    // ---- responses -------------------------------------------------------------------------------------

    void onUpstreamRead(Object msg) {
        if (msg instanceof HttpResponse response) {
            onResponseHead(response);
        }
        if (msg instanceof HttpContent content) {
            onResponseContent(content);
        } else if (!(msg instanceof HttpResponse)) {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onResponseHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            log.warn("{}: invalid response from {}: {}", target.service().name(), endpoint.upstream(),
                    response.decoderResult().cause().getMessage());
            upstream.close(); // reported through onUpstreamClosed
            return;
        }
        int code = response.status().code();
        if (code == 101 && upgrade) {
            tunnelPending = true;
            responseStarted = true;
            status = code;
            stick(response); // a session that starts with a WebSocket sticks too
            ctx.write(response, ctx.voidPromise());
            return;
        }
        if (code < 200) {
            informational = true;
            ctx.write(response, ctx.voidPromise());
            return;
        }
        responseStarted = true;
        status = code;
        int present = ProxyHeaders.scan(response.headers());
        upstreamKeepAlive = ProxyHeaders.isKeepAlive(response, present);
        if (!requestDone) {
            // The upstream answers before the whole request arrived: the rest of it cannot be told apart from
            // a next request, so this connection ends with the response, and the response says so.
            keepAlive = false;
        }
        if (inputEnded && isLastRequest()) {
            keepAlive = false; // the client ended its side: this is the last answer, and it says so
        }
        boolean bodiless = method.equals(HttpMethod.HEAD) || code == 204 || code == 304;
        if (!bodiless && (present & ProxyHeaders.CONTENT_LENGTH) == 0) {
            if (clientVersion.equals(HttpVersion.HTTP_1_0)) {
                // An HTTP/1.0 client knows no chunks: the end of the body is the end of the connection.
                response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                keepAlive = false;
            } else {
                // Close-delimited bodies from upstream become chunked, so the client connection can be kept.
                HttpUtil.setTransferEncodingChunked(response, true);
            }
        }
        stick(response);
        ProxyHeaders.toClient(response, present, keepAlive, target.service().headers());
        if (keepAlive && clientVersion.equals(HttpVersion.HTTP_1_0)) {
            response.headers().set(HttpHeaderNames.CONNECTION, ProxyHeaders.CONNECTION_KEEP_ALIVE);
        }
        ctx.write(response, ctx.voidPromise());
    }

    /** The sticky-session cookie, for a service that has them. */
    private void stick(HttpResponse response) {
        if (target.service().stickyCookie().isPresent()) {
            List<String> paths = target.service().virtualPaths();
            StickySessions.toResponse(target.service().stickyCookie().get(), response.headers(), endpoint, stickyIds,
                    paths.size() == 1 ? paths.get(0) : "/");
        }
    }

    private void onResponseContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (informational) {
            ctx.write(content, ctx.voidPromise());
            if (last) {
                informational = false;
                ctx.flush();
            }
            return;
        }
        if (!responseStarted) {
            content.release(); // the rest of a response already reported as invalid
            return;
        }
        bytes += content.content().readableBytes();
        if (tunnelPending) {
            ctx.write(content, ctx.voidPromise());
            if (last) {
                switchToTunnel();
            }
            return;
        }
        if (!last) {
            ctx.write(content, ctx.voidPromise());
            return;
        }
        if (!requestDone) {
            // The upstream answered before the whole request arrived: the rest of it cannot be told apart
            // from a next request, so this connection ends with the response.
            keepAlive = false;
        }
        // A connection that stays open has nothing to wait for: no promise is made for it.
        ChannelFuture written = keepAlive ? null : ctx.writeAndFlush(content);
        if (written == null) {
            ctx.writeAndFlush(content, ctx.voidPromise());
        }
        UpstreamHandler up = upstreamHandler;
        Endpoint e = endpoint;
        detachUpstream();
        long now = System.nanoTime();
        if (requestDone && upstreamKeepAlive) {
            pool.release(e, up, now);
        } else {
            up.channel().close();
        }
        logAccess(e, now);
        endExchange(written, now);
    }

    void onUpstreamReadComplete() {
        // Once per read batch rather than per message: the timer cannot fire in the middle of a batch.
        lastActivity = System.nanoTime();
        ctx.flush();
        if (upstream != null && ctx.channel().isWritable()) {
            upstream.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && upstream != null) {
            upstream.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    void onUpstreamClosed(Channel ch) {
        if (ch != upstream) {
            return;
        }
        Endpoint e = endpoint;
        detachUpstream();
        if (!responseStarted) {
            if (reused && requestDone && !bodySent && !informational) {
                // A kept-alive connection the upstream had just closed, and a request without a body that was
                // read in full: it can safely go again, on a new connection.
                forceNew = true;
                connectUpstream(System.nanoTime());
                return;
            }
            e.recordFailure();
            log.warn("{}: {} closed the connection without answering", target.service().name(), e.upstream());
            respondLocal(HttpResponseStatus.BAD_GATEWAY, "The upstream closed the connection without answering.");
        } else {
            // Never pass a truncated body off as complete: the client sees the connection end early.
            log.warn("{}: {} closed the connection in the middle of a response", target.service().name(),
                    e.upstream());
            logAccess(e);
            request = null;
            ctx.close();
        }
    }

    private void detachUpstream() {
        upstreamHandler.own(null);
        endpoint.end();
        upstream = null;
        upstreamHandler = null;
        endpoint = null;
    }

    private void switchToTunnel() {
        Channel up = upstream;
        Endpoint e = endpoint;
        upstreamHandler.own(null);
        upstream = null;
        upstreamHandler = null;
        endpoint = null;
        ctx.flush();
        logAccess(e);
        request = null;
        cancelTimer();
        Channel clientChannel = ctx.channel();
        ChannelPipeline client = ctx.pipeline();
        ChannelPipeline upstreamPipeline = up.pipeline();
        // The relays go in before the codecs come out: a codec hands on the bytes it has already read past the
        // handshake (an upstream often speaks the new protocol in the same packet as its 101) when removed.
        client.remove("flow");
        client.replace(this, "idle", new IdleStateHandler(0, 0,
                target.service().timeouts().tunnel().toMillis(), TimeUnit.MILLISECONDS));
        upstreamPipeline.remove(UpstreamHandler.NAME);
        // A half-close in the tunnel is passed on as on a TCP service: each side may end its own direction first.
        up.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        Relay.join(clientChannel, up, e::end);
        client.remove("codec");
        upstreamPipeline.remove("codec");
        if (inputEnded) {
            // The client ended its side before the switch: from the handler before the relay, so only it sees it.
            client.context("idle").fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    // ---- local answers and the end of an exchange -----------------------------------------------------

    private void rejectMalformed(Throwable cause) {
        HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                : HttpResponseStatus.BAD_REQUEST;
        cancelTimer();
        method = HttpMethod.GET;
        originalUri = "-";
        clientVersion = HttpVersion.HTTP_1_1;
        startNanos = System.nanoTime();
        keepAlive = false;
        this.status = status.code();
        FullHttpResponse page = LocalResponses.page(ctx.alloc(), status, "The request is malformed: "
                + cause.getMessage(), false);
        bytes = page.content().readableBytes();
        ctx.writeAndFlush(page).addListener(ChannelFutureListener.CLOSE);
        logAccess(null);
    }

    private void respondLocal(HttpResponseStatus status, String detail) {
        respondBeforeBody(LocalResponses.page(ctx.alloc(), status, detail, true));
    }

    /**
     * An answer of the load balancer's own, given before the request's body was read: a body still to come cannot be
     * told apart from a next request, so the connection then ends with the answer ({@link #respond} says so).
     */
    private void respondBeforeBody(FullHttpResponse response) {
        if (hasBody && !requestDone) {
            keepAlive = false;
        }
        respond(response);
    }

    private void respond(FullHttpResponse response) {
        if (inputEnded && isLastRequest()) {
            keepAlive = false;
        }
        status = response.status().code();
        bytes = response.content().readableBytes();
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, ProxyHeaders.CONNECTION_CLOSE);
        }
        discarding = !requestDone;
        ChannelFuture written = ctx.writeAndFlush(response);
        long now = System.nanoTime();
        logAccess(null, now);
        endExchange(written, now);
    }

    /** @param written the last write, null when the connection is kept alive */
    private void endExchange(ChannelFuture written, long now) {
        request = null;
        target = null;
        if (keepAlive) {
            waitForRequest(lc.keepAlive(), now);
            readClient();
        } else {
            cancelTimer();
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        if (upstream != null) {
            Channel up = upstream;
            Endpoint e = endpoint;
            detachUpstream();
            up.close();
            if (request != null) {
                status = status == 0 ? 499 : status; // the client left before the answer was complete
                logAccess(e);
            }
        } else if (endpoint != null) {
            endpoint.end(); // still connecting: onConnected sees the exchange is gone
            endpoint = null;
        }
        request = null;
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            onClientInputEnded();
        } else if (evt instanceof DrainEvent) {
            // An idle connection is not cut (a request may be on its way): its next answer says Connection: close.
            draining = true;
            if (request != null && !responseStarted) {
                keepAlive = false;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            log.debug("client connection {} failed", ctx.channel(), cause);
        } else {
            log.warn("client connection {} failed", ctx.channel(), cause);
        }
        ctx.close();
    }

    // ---- the client ends its side ---------------------------------------------------------------------

    /**
     * The client half-closed its connection (plain TCP, or the TCP stream under TLS ended, with or without a
     * close_notify): what it sent in full is still answered, as by HAProxy without {@code option abortonclose}.
     * Requests it pipelined before the end are served in turn too; the last answer says {@code Connection: close}
     * when its head has not gone out yet, and the connection closes once it is written. A request whose body had not
     * arrived in full can never complete: its exchange is cut as when the client leaves ({@link #channelInactive}).
     * The decoder hands on every message complete when the input ends, so a request cut short, also one under TLS
     * whose last record was cut, never passes for a whole one.
     *
     * <p>Acted on when a read finds nothing: at once when a read was pending, else once the exchange in progress
     * wants more of the client ({@link #readClient}).
     */
    private void onClientInputEnded() {
        inputEnded = true;
        // The connection stays open for answers: keep it able to wait for room to write (see Transport).
        Transport.keepWritableAfterInputEnds(ctx.channel());
        if (readWanted) {
            readClient();
        }
    }

    /** The client ended its side and every message it sent has been taken: what was waited for will never come. */
    private void clientInputExhausted() {
        readWanted = false;
        if (request != null) {
            ctx.close(); // the request body is incomplete: the upstream connection is closed, the access log says 499
        } else {
            // Between exchanges (or discarding the rest of a request answered already): close after the last answer.
            cancelTimer();
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** No request the client sent is left unread after the current one (only asked once the client's input ended). */
    private boolean isLastRequest() {
        return requestDone && ClientQueue.isEmpty(ctx.pipeline().get("flow"));
    }

    // ---- timeouts -------------------------------------------------------------------------------------

    private void waitForRequest(Duration limit, long now) {
        waitingForRequest = true;
        waitDeadline = now + limit.toNanos();
        arm(waitDeadline);
    }

    private void startExchangeTimer(long now) {
        lastActivity = now;
        arm(lastActivity + currentLimit());
    }

    private long currentLimit() {
        Timeouts t = target.service().timeouts();
        return (requestDone ? t.server() : t.client()).toNanos();
    }

    /** Makes sure the timer fires no later than {@code due} (a {@link System#nanoTime()} value). */
    private void arm(long due) {
        if (timer != null && timerDue - due <= 0) {
            return;
        }
        cancelTimer();
        timerDue = due;
        timer = ctx.executor().schedule(onTimer, Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void onTimer() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (waitingForRequest) {
            if (System.nanoTime() - waitDeadline < 0) {
                arm(waitDeadline);
                return;
            }
            if (firstRequest) {
                ctx.writeAndFlush(LocalResponses.page(ctx.alloc(), HttpResponseStatus.REQUEST_TIMEOUT,
                        "No complete request arrived in time.", false)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
            return;
        }
        if (request == null) {
            return;
        }
        long idle = System.nanoTime() - lastActivity;
        long limit = currentLimit();
        if (idle < limit) {
            arm(lastActivity + limit);
            return;
        }
        log.warn("{}: {} timed out after {} ms", target.service().name(),
                requestDone ? "upstream " + (endpoint == null ? "" : endpoint.upstream()) : "client " + clientIp,
                TimeUnit.NANOSECONDS.toMillis(idle));
        if (upstream != null) {
            Channel up = upstream;
            detachUpstream();
            up.close();
        }
        if (!responseStarted) {
            keepAlive = false;
            respondLocal(requestDone ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.REQUEST_TIMEOUT,
                    requestDone ? "The upstream did not answer in time." : "The request body did not arrive in time.");
        } else {
            ctx.close();
        }
    }

    // ---- access log -----------------------------------------------------------------------------------

    private void logAccess(Endpoint e) {
        if (lc.accessLog()) {
            logAccess(e, System.nanoTime());
        }
    }

    private void logAccess(Endpoint e, long now) {
        if (!lc.accessLog()) {
            return;
        }
        long micros = TimeUnit.NANOSECONDS.toMicros(now - startNanos);
        access.info("{} \"{} {} {}\" {} {} {} {} {}.{}ms", clientIp, method, originalUri, clientVersion,
                target == null ? "-" : target.service().name(), e == null ? "-" : e.upstream(), status, bytes,
                micros / 1000, String.format("%03d", micros % 1000));
    }
}
