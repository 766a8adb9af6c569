package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kontena.lb.testing.Background;
import io.kontena.lb.testing.TestCertificates;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What io_uring does with a flush while its loop is busy, and how a TLS connection's handshake avoids the wait. */
class UringHandshakeFlushTest {
    private EventLoopGroup loops;

    @BeforeEach
    void loops() {
        assumeTrue(TransportKind.IO_URING.isAvailable(), "io_uring is not available here");
        loops = Transport.eventLoops(TransportKind.IO_URING, 1, "uring-flush-test");
    }

    @AfterEach
    void stop() {
        if (loops != null) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aFlushedWriteLeavesWhileTheLoopIsBusyOnlyWhenTheQueueIsSubmitted() throws Exception {
        assertThat(UringHandshakeFlush.available()).as("Netty's submission queue is reachable").isTrue();
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Channel ch = new Bootstrap().group(loops).channel(TransportKind.IO_URING.socketChannel())
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(server.getLocalSocketAddress()).syncUninterruptibly().channel();
            try (Socket peer = server.accept()) {
                InputStream in = peer.getInputStream();

                // Netty alone: a byte flushed while the loop is busy stays queued until the loop is free again.
                CompletableFuture<Integer> first = Background.supply(() -> read(in));
                boolean leftWhileBusy = ch.eventLoop().submit(() -> {
                    ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
                    return arrives(first, 300);
                }).get();
                assertThat(leftWhileBusy).as("sent before the loop was free").isFalse();
                assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo(1);

                // Submitted at once: it leaves while the loop is still busy.
                CompletableFuture<Integer> second = Background.supply(() -> read(in));
                boolean left = ch.eventLoop().submit(() -> {
                    ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {2}));
                    UringHandshakeFlush.submit(ch.eventLoop());
                    return arrives(second, 5_000);
                }).get();
                assertThat(left).as("sent while the loop was busy").isTrue();
                assertThat(second.get()).isEqualTo(2);
            } finally {
                ch.close().syncUninterruptibly();
            }
        }
    }

    @Test
    void theHandlerLeavesTheConnectionOnceItsHandshakeIsDone() throws Exception {
        TestCertificates.Issued cert = TestCertificates.cert("a.test").build();
        SslContext serverTls = SslContextBuilder.forServer(cert.keyPair().getPrivate(), cert.certificate()).build();
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        AtomicBoolean firstAtStart = new AtomicBoolean();
        Channel server = new ServerBootstrap().group(loops).channel(TransportKind.IO_URING.serverChannel())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        UringHandshakeFlush.addTo(ch);
                        ch.pipeline().addLast(serverTls.newHandler(ch.alloc()));
                        firstAtStart.set(ch.pipeline().first() instanceof UringHandshakeFlush);
                        accepted.complete(ch);
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).syncUninterruptibly().channel();
        SslContext clientTls = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .build();
        Channel client = new Bootstrap().group(loops).channel(TransportKind.IO_URING.socketChannel())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(clientTls.newHandler(ch.alloc()));
                    }
                })
                .connect(server.localAddress()).syncUninterruptibly().channel();
        try {
            Channel served = accepted.get(5, TimeUnit.SECONDS);
            assertThat(firstAtStart).as("first in the pipeline before the handshake").isTrue();
            assertThat(client.pipeline().get(SslHandler.class).handshakeFuture().await(5, TimeUnit.SECONDS))
                    .isTrue();
            assertThat(served.pipeline().get(SslHandler.class).handshakeFuture().sync().isSuccess()).isTrue();
            served.eventLoop().submit(() -> { }).sync(); // the handshake's last flush has run
            assertThat(served.pipeline().get(UringHandshakeFlush.class)).as("after the handshake").isNull();
        } finally {
            client.close().syncUninterruptibly();
            server.close().syncUninterruptibly();
        }
    }

    private static int read(InputStream in) {
        try {
            return in.read();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean arrives(CompletableFuture<Integer> read, long millis) {
        try {
            read.get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }
}
