package io.kontena.lb.handover;

import io.kontena.lb.proxy.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hand-over socket of a running load balancer ({@code run --handover-socket PATH}): a Unix domain socket through
 * which a new process of the same user ({@code run --take-over PATH}) receives the listening sockets (SCM_RIGHTS).
 * Sending them changes nothing here: this process keeps serving until the new one, once it serves, sends it SIGTERM.
 */
public final class HandoverSocket implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HandoverSocket.class);

    /** Lends the listening sockets for as long as {@code use} runs; none of them closes meanwhile. */
    public interface Sockets {
        void lend(Consumer<List<FileDescriptor>> use);
    }

    private final Path path;
    private final Object fileKey;
    private final EventLoopGroup loop;
    private final Channel server;

    private HandoverSocket(Path path, Object fileKey, EventLoopGroup loop, Channel server) {
        this.path = path;
        this.fileKey = fileKey;
        this.loop = loop;
        this.server = server;
    }

    /**
     * Serves the hand-over socket at {@code path}.
     *
     * @param replacing the path this process took over from, whose socket it may replace; null if none
     * @throws HandoverException when the path is in use by a live process or is not a socket
     */
    public static HandoverSocket start(Path path, Path replacing, Sockets sockets) {
        Handover.requireNative("--handover-socket");
        Path target = path.toAbsolutePath();
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (!Handover.isSocket(target)) {
                throw new HandoverException("--handover-socket " + path + ": the file exists and is not a socket;"
                        + " choose another path");
            }
            if (!target.equals(replacing == null ? null : replacing.toAbsolutePath()) && Handover.isLive(target)) {
                throw new HandoverException("--handover-socket " + path + ": another load balancer serves this"
                        + " socket; take over from it with --take-over " + path + ", or choose another path");
            }
        }
        // Bound under a private name, made owner-only, then renamed into place in one step: no one else can ever
        // connect, and a process being replaced is reachable at the path until the new socket is there.
        Path bound = target.resolveSibling(target.getFileName() + "." + ProcessHandle.current().pid() + ".new");
        EventLoopGroup loop = Handover.eventLoop("handover");
        try {
            Files.deleteIfExists(bound);
            Channel server = new ServerBootstrap().group(loop).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new Sender(sockets))
                    .bind(new DomainSocketAddress(bound.toFile())).syncUninterruptibly().channel();
            Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
            Files.move(bound, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Object key = Files.readAttributes(target, BasicFileAttributes.class).fileKey();
            log.info("hand-over socket on {}: a process started with --take-over {} takes the listeners over",
                    target, target);
            return new HandoverSocket(target, key, loop, server);
        } catch (IOException | RuntimeException e) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new HandoverException("--handover-socket " + path + ": cannot serve a socket there: "
                    + e.getMessage(), e);
        }
    }

    /** Stops offering the listeners, and removes the socket file unless a new process has put its own there. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        try {
            if (Objects.equals(Files.readAttributes(path, BasicFileAttributes.class).fileKey(), fileKey)) {
                Files.delete(path);
            }
        } catch (IOException gone) {
            // removed or replaced already
        }
    }

    /** Sends the listening sockets to each process that connects, then ends the connection. */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class Sender extends ChannelInboundHandlerAdapter {
        private final Sockets sockets;

        Sender(Sockets sockets) {
            this.sockets = sockets;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws IOException {
            EpollDomainSocketChannel ch = (EpollDomainSocketChannel) ctx.channel();
            PeerCredentials peer = ch.peerCredentials();
            if (!Handover.maySignal(Handover.ownUid(), peer.uid())) {
                log.warn("hand-over refused to pid {}: it runs as uid {}, this process as uid {}", peer.pid(),
                        peer.uid(), Handover.ownUid());
                ch.close();
                return;
            }
            // Lent sockets stay open only while the lender waits, and this loop must not wait on itself.
            Thread sender = new Thread(() -> send(ch, peer), "handover-send");
            sender.setDaemon(true);
            sender.start();
        }

        private void send(Channel ch, PeerCredentials peer) {
            sockets.lend(fds -> {
                ChannelFuture last = ch.newSucceededFuture();
                for (FileDescriptor fd : fds) {
                    last = ch.write(fd);
                }
                ch.flush();
                if (last.awaitUninterruptibly(Handover.TIMEOUT.toMillis()) && last.isSuccess()) {
                    log.info("sent {} listening socket(s) to pid {}; serving on until it takes over (SIGTERM)",
                            fds.size(), peer.pid());
                } else {
                    log.warn("hand-over to pid {} failed: {}", peer.pid(),
                            last.cause() == null ? "timed out" : last.cause().getMessage());
                }
                // Closed before the sockets are given back, so none is sent after it may have closed. The end of
                // the connection is the end of the list for the receiver.
                ch.close().awaitUninterruptibly();
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("hand-over connection failed: {}", cause.getMessage());
            ctx.close();
        }
    }
}
