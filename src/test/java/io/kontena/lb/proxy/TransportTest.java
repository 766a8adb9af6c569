package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Which transport runs, how an operator picks another, and that each one carries bytes over real sockets. */
class TransportTest {
    @Test
    void theDefaultIsIoUringWhereAvailableElseEpollElseNio() {
        TransportKind expected = TransportKind.IO_URING.isAvailable() ? TransportKind.IO_URING
                : TransportKind.EPOLL.isAvailable() ? TransportKind.EPOLL : TransportKind.NIO;
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

    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void eachAvailableTransportWritesALongUploadToAServerThatEndedItsSide(TransportKind kind) throws Exception {
        // As an upstream connection: the server ends its side first, then reads slowly, so the upload fills the
        // socket again and again, and each time the channel must wait for room on a connection whose input ended.
        // (A connection's own socket is non-blocking: its writes wait for room through the transport.)
        if (!kind.isAvailable()) {
            return;
        }
        int size = 16 * 1024 * 1024;
        EventLoopGroup loops = Transport.eventLoops(kind, 1, "transport-test");
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress at = new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
            new Bootstrap().group(loops).channelFactory(() -> kind.newSocketChannel(at))
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof ChannelInputShutdownEvent) {
                                Transport.keepWritableAfterInputEnds(ctx.channel());
                                ByteBuf chunk = Unpooled.wrappedBuffer(new byte[64 * 1024]);
                                for (int sent = 0; sent < size; sent += chunk.capacity()) {
                                    ctx.write(chunk.retainedDuplicate());
                                }
                                chunk.release();
                                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                            }
                        }
                    })
                    .connect(at).syncUninterruptibly();
            try (Socket upstream = server.accept()) {
                upstream.setSoTimeout(20_000);
                upstream.shutdownOutput();
                InputStream in = upstream.getInputStream();
                byte[] buf = new byte[16 * 1024];
                long received = 0;
                int reads = 0;
                for (int n; (n = in.read(buf)) != -1; received += n) {
                    if (++reads % 16 == 0) {
                        LockSupport.parkNanos(5_000_000); // slow: the socket keeps filling up
                    }
                }
                assertThat(received).as(kind.label()).isEqualTo(size);
            }
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
