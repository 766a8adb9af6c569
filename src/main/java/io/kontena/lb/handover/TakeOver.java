package io.kontena.lb.handover;

import io.kontena.lb.proxy.InheritedSockets;
import io.kontena.lb.proxy.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import io.netty.channel.unix.UnixChannelOption;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The new process's side of a hand-over ({@code run --take-over PATH}): receives the listening sockets of the
 * process serving the hand-over socket at PATH, and once this process serves on them, tells that one to stop
 * (SIGTERM: it stops accepting, drains and exits). Until then the old process serves as before, so a new process
 * that fails to start changes nothing.
 */
public final class TakeOver {
    private static final Logger log = LoggerFactory.getLogger(TakeOver.class);

    private final long pid;
    private final InheritedSockets sockets;

    private TakeOver(long pid, InheritedSockets sockets) {
        this.pid = pid;
        this.sockets = sockets;
    }

    /** The sockets received; listeners claim them by address. */
    public InheritedSockets sockets() {
        return sockets;
    }

    /**
     * Receives the listening sockets from the process serving {@code path}.
     *
     * @throws HandoverException naming what is wrong: no such socket, no process behind it, another user's process
     */
    public static TakeOver from(Path path) {
        Handover.requireNative("--take-over");
        String where = "--take-over " + path + ": ";
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new HandoverException(where + "no such file; start the running load balancer with"
                    + " --handover-socket " + path + " to make it ready to hand over");
        }
        if (!Handover.isSocket(path)) {
            throw new HandoverException(where + "not a socket; give the path of the running load balancer's"
                    + " --handover-socket");
        }
        if (!Files.isWritable(path)) {
            throw new HandoverException(where + "permission denied: the socket belongs to " + owner(path)
                    + "; a hand-over needs the user of the running load balancer");
        }
        EventLoopGroup loop = Handover.eventLoop("take-over");
        try {
            List<FileDescriptor> received = new ArrayList<>();
            CompletableFuture<PeerCredentials> credentials = new CompletableFuture<>();
            CompletableFuture<Void> ended = new CompletableFuture<>();
            Channel ch;
            try {
                ch = new Bootstrap().group(loop).channel(EpollDomainSocketChannel.class)
                        .option(UnixChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                        .handler(new ChannelInboundHandlerAdapter() {
                            /**
                             * Asked here, before anything is read: the serving process closes the connection as
                             * soon as it has sent its sockets, and once that end is read the socket is closed
                             * and has no peer to ask about.
                             */
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                try {
                                    credentials.complete(((EpollDomainSocketChannel) ctx.channel()).peerCredentials());
                                } catch (IOException e) {
                                    credentials.completeExceptionally(e);
                                }
                                ctx.fireChannelActive();
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                received.add((FileDescriptor) msg);
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                ended.complete(null);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ended.completeExceptionally(cause);
                                ctx.close();
                            }
                        })
                        .connect(new DomainSocketAddress(path.toFile())).syncUninterruptibly().channel();
            } catch (Exception e) {
                throw new HandoverException(where + (e instanceof ConnectException
                        ? "no process serves this socket (the load balancer that made it has ended); remove"
                        + " the file and start without --take-over"
                        : "cannot connect: " + e.getMessage()), e);
            }
            PeerCredentials peer;
            try {
                peer = credentials.get(Handover.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                ch.close();
                throw new HandoverException(where + "cannot tell which process serves it: " + reason(e), e);
            }
            if (!Handover.maySignal(peer.uid(), Handover.ownUid())) {
                ch.close();
                throw new HandoverException(where + "the process serving it (pid " + peer.pid() + ") runs as uid "
                        + peer.uid() + " and this one as uid " + Handover.ownUid()
                        + "; a hand-over needs the same user");
            }
            try {
                ended.get(Handover.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                ch.close();
                received.forEach(TakeOver::closeQuietly);
                throw new HandoverException(where + "the process serving it (pid " + peer.pid()
                        + ") did not hand its sockets over: " + reason(e), e);
            }
            if (received.isEmpty()) {
                throw new HandoverException(where + "the process serving it (pid " + peer.pid()
                        + ") sent no listening socket: it refused the hand-over (see its log) or has none");
            }
            List<ServerChannel> sockets = new ArrayList<>();
            for (FileDescriptor fd : received) {
                ServerChannel s = Transport.adoptListeningSocket(fd.intValue());
                if (s.localAddress() instanceof InetSocketAddress) {
                    sockets.add(s);
                } else {
                    s.unsafe().closeForcibly();
                }
            }
            log.info("received {} listening socket(s) from pid {}: {}", sockets.size(), peer.pid(),
                    sockets.stream().map(s -> s.localAddress().toString()).toList());
            return new TakeOver(peer.pid(), new InheritedSockets(sockets));
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** This process serves: the old one stops accepting, drains (up to its drain timeout) and exits. */
    public void stopPrevious() {
        ProcessHandle.of(pid).ifPresentOrElse(p -> {
            p.destroy();
            log.info("took over from pid {}: told it to stop accepting and drain", pid);
        }, () -> log.info("took over from pid {}, which has ended meanwhile", pid));
    }

    /** What went wrong while waiting, for an operator: the cause rather than its wrapper. */
    private static String reason(Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof TimeoutException) {
            return "no answer within " + Handover.TIMEOUT.toSeconds() + " s";
        }
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }

    private static String owner(Path path) {
        try {
            return "user " + Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName();
        } catch (IOException e) {
            return "another user";
        }
    }

    private static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }
}
