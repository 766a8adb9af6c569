package io.kontena.lb.demo;

import io.kontena.lb.proxy.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;

/**
 * A small HTTP upstream that answers with its instance name and what it received: the demo's upstreams, and
 * the tests'. Besides plain answers it can wait ({@code ?wait=MS}), send a body of a given size
 * ({@code ?size=BYTES}, streamed; with {@code &pace=MS} one 64 KB piece every MS ms), count and checksum a request
 * body of any size (streamed), and echo WebSocket messages ({@code Upgrade: websocket}).
 */
public final class WhoAmI implements AutoCloseable {
    private final String name;
    private final Channel channel;

    private WhoAmI(String name, Channel channel) {
        this.name = name;
        this.channel = channel;
    }

    /** Starts an instance on host:port (port 0: any free port) using the given event loops. */
    public static WhoAmI start(String name, String host, int port, EventLoopGroup loops) {
        Channel ch = new ServerBootstrap()
                .group(loops)
                .channel(Transport.serverChannel())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(new HttpServerCodec(), new WhoAmIHandler(name));
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return new WhoAmI(name, ch);
    }

    public String name() {
        return name;
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
