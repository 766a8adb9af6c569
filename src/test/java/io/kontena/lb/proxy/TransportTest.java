package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Which transport runs, how an operator picks another, and that each one carries bytes over real sockets. */
class TransportTest {
    @Test
    void theDefaultIsEpollWhereAvailableElseNio() {
        TransportKind expected = TransportKind.EPOLL.isAvailable() ? TransportKind.EPOLL : TransportKind.NIO;
        assertThat(TransportKind.choose(null)).isEqualTo(expected);
        assertThat(TransportKind.choose(" ")).isEqualTo(expected);
        assertThat(TransportKind.choose("no-such-transport")).as("a misspelt name").isEqualTo(expected);
    }

    @Test
    void anOperatorPicksAnotherTransportByName() {
        assertThat(TransportKind.choose("nio")).isEqualTo(TransportKind.NIO);
        TransportKind epoll = TransportKind.EPOLL.isAvailable() ? TransportKind.EPOLL : TransportKind.NIO;
        assertThat(TransportKind.choose("epoll")).isEqualTo(epoll);
        assertThat(TransportKind.choose(" EPOLL ")).isEqualTo(epoll);
        assertThat(TransportKind.choose("io_uring"))
                .isEqualTo(TransportKind.IO_URING.isAvailable() ? TransportKind.IO_URING : epoll);
    }

    @Test
    void theProcessRunsTheTransportItsEnvironmentNames() {
        assertThat(Transport.kind()).isEqualTo(TransportKind.choose(System.getenv(Transport.VARIABLE)));
        assertThat(Transport.name()).isEqualTo(Transport.kind().label());
    }

    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void eachAvailableTransportServesAndConnectsOverIpv4AndIpv6(TransportKind kind) throws Exception {
        if (!kind.isAvailable()) {
            return;
        }
        EventLoopGroup loops = Transport.eventLoops(kind, 1, "transport-test");
        try {
            Channel server = new ServerBootstrap().group(loops).channel(kind.serverChannel())
                    .childHandler(Echo.INSTANCE)
                    .bind(new InetSocketAddress(0)).syncUninterruptibly().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            for (InetAddress address : new InetAddress[] {InetAddress.getByName("127.0.0.1"),
                    InetAddress.getByName("::1")}) {
                assertThat(echo(kind, loops, new InetSocketAddress(address, port), "hello " + address))
                        .isEqualTo("hello " + address);
            }
            assertThat(echo(kind, loops, InetSocketAddress.createUnresolved("localhost", port), "by name"))
                    .isEqualTo("by name");
            server.close().syncUninterruptibly();
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        static final Echo INSTANCE = new Echo();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    private static String echo(TransportKind kind, EventLoopGroup loops, InetSocketAddress to, String text)
            throws Exception {
        CompletableFuture<String> answer = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(loops).channelFactory(() -> kind.newSocketChannel(to))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                answer.complete(msg.toString(StandardCharsets.US_ASCII));
                            }
                        });
                    }
                })
                .connect(to).syncUninterruptibly().channel();
        try {
            ch.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII)).syncUninterruptibly();
            return answer.get(5, TimeUnit.SECONDS);
        } finally {
            ch.close().syncUninterruptibly();
        }
    }
}
