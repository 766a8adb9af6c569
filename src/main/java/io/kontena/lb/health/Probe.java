package io.kontena.lb.health;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.config.HealthCheck;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.proxy.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks one upstream every interval, on one event loop (so its state needs no locks): a connection, and for an HTTP
 * check a {@code GET} whose status must be 2xx or 3xx, all within the check's timeout. {@link HealthCheck#FALL}
 * failures in a row take the upstream out of rotation, {@link HealthCheck#RISE} successes put it back.
 */
final class Probe {
    private static final Logger log = LoggerFactory.getLogger(Probe.class);
    /** An HTTP check reads the status line only; a longer one is no HTTP answer. */
    private static final int MAX_STATUS_LINE = 1024;

    private final Endpoint endpoint;
    private final String service;
    private final HealthCheck check;
    private final EventLoop loop;
    private final InetSocketAddress address;
    private volatile boolean stopped;
    private ScheduledFuture<?> next;
    private int successes;
    private int failures;

    private Probe(Endpoint endpoint, String service, HealthCheck check, EventLoop loop) {
        this.endpoint = endpoint;
        this.service = service;
        this.check = check;
        this.loop = loop;
        InetSocketAddress upstream = endpoint.address();
        this.address = check.port() == 0 ? upstream : upstream.isUnresolved()
                ? InetSocketAddress.createUnresolved(upstream.getHostString(), check.port())
                : new InetSocketAddress(upstream.getAddress(), check.port());
    }

    /**
     * Starts checking, the first time at a random point of the first interval, so that checks do not bunch up. The
     * upstream stays in or out of rotation as it is until its checks say otherwise.
     */
    static Probe start(Endpoint endpoint, String service, HealthCheck check, EventLoop loop) {
        Probe probe = new Probe(endpoint, service, check, loop);
        long first = ThreadLocalRandom.current().nextLong(Math.max(1, check.interval().toMillis()));
        loop.execute(() -> probe.scheduleIn(first));
        return probe;
    }

    HealthCheck check() {
        return check;
    }

    EventLoop loop() {
        return loop;
    }

    /**
     * Stops checking. With {@code release}, the upstream is put back in rotation: on the probe's loop, after any
     * check in progress there, so that no late result takes it out again.
     */
    void stop(boolean release) {
        stopped = true;
        loop.execute(() -> {
            if (next != null) {
                next.cancel(false);
            }
            if (release) {
                endpoint.setHealthy(true);
            }
        });
    }

    private void scheduleIn(long millis) {
        if (!stopped) {
            next = loop.schedule(this::run, millis, TimeUnit.MILLISECONDS);
        }
    }

    private void run() {
        if (stopped) {
            return;
        }
        Promise<String> result = loop.newPromise(); // null when healthy, else what was wrong
        result.addListener(done -> {
            if (!done.isCancelled()) {
                record((String) done.getNow());
            }
            scheduleIn(check.interval().toMillis());
        });
        if (address.isUnresolved()) { // looked up when the upstream was configured, in vain; not again on this loop
            result.setSuccess("host name " + address.getHostString() + " did not resolve");
            return;
        }
        ScheduledFuture<?> timeout = loop.schedule(() -> result.trySuccess("no answer within "
                + check.timeout().toMillis() + " ms"), check.timeout().toMillis(), TimeUnit.MILLISECONDS);
        ChannelFuture connect = new Bootstrap().group(loop)
                .channelFactory(() -> Transport.newSocketChannel(address))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) check.timeout().toMillis())
                .handler(new StatusLine(result))
                .connect(address);
        Channel channel = connect.channel();
        connect.addListener((ChannelFuture connected) -> {
            if (!connected.isSuccess() && !channel.isRegistered()) {
                // No socket could be had (this process is out of open files): no verdict on the upstream.
                result.cancel(false);
            } else if (!connected.isSuccess()) {
                result.trySuccess("connect failed: " + describe(connected.cause()));
            } else if (!check.isHttp()) {
                result.trySuccess(null);
            } else {
                String host = new Upstream(address.getHostString(), address.getPort()).toString(); // [v6]:port
                channel.writeAndFlush(Unpooled.copiedBuffer("GET " + check.httpPath() + " HTTP/1.1\r\nHost: " + host
                        + "\r\nUser-Agent: kontena-lb health check\r\nConnection: close\r\n\r\n",
                        StandardCharsets.US_ASCII));
            }
        });
        result.addListener(done -> {
            timeout.cancel(false);
            if (channel.isRegistered()) { // else no socket was had (out of open files): nothing to close
                channel.close();
            }
        });
    }

    private void record(String failure) {
        if (stopped) {
            return;
        }
        if (failure == null) {
            failures = 0;
            if (++successes >= HealthCheck.RISE && !endpoint.isHealthy()) {
                endpoint.setHealthy(true);
                log.info("upstream {} of {} is up again ({} checks in a row: {})", endpoint, service, successes,
                        check);
            }
        } else {
            successes = 0;
            if (++failures >= HealthCheck.FALL && endpoint.isHealthy()) {
                endpoint.setHealthy(false);
                log.warn("upstream {} of {} is down, out of rotation: {} ({} checks in a row: {})", endpoint,
                        service, failure, failures, check);
            }
        }
    }

    private static String describe(Throwable cause) {
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }

    /** Reads an HTTP answer's status line and judges it: 2xx and 3xx are healthy. */
    private static final class StatusLine extends ChannelInboundHandlerAdapter {
        private final Promise<String> result;
        private final StringBuilder line = new StringBuilder();

        StatusLine(Promise<String> result) {
            this.result = result;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                while (buf.isReadable() && line.length() < MAX_STATUS_LINE) {
                    char c = (char) buf.readByte();
                    if (c == '\r' || c == '\n') {
                        result.trySuccess(judge(line.toString()));
                        return;
                    }
                    line.append(c);
                }
            } finally {
                buf.release();
            }
            if (line.length() >= MAX_STATUS_LINE) {
                result.trySuccess("no HTTP answer");
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.trySuccess("closed before an answer");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.trySuccess(describe(cause));
        }

        private static String judge(String statusLine) {
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/") || parts[1].length() != 3) {
                return "no HTTP answer: " + statusLine;
            }
            char first = parts[1].charAt(0);
            return first == '2' || first == '3' ? null : "HTTP " + parts[1];
        }
    }
}
