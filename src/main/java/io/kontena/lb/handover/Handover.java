package io.kontena.lb.handover;

import io.kontena.lb.proxy.Transport;
import io.kontena.lb.proxy.TransportKind;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;

/** What both ends of a hand-over share. */
final class Handover {
    /** For sending and receiving the sockets: a few small messages on a local socket. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private Handover() {
    }

    static void requireNative(String option) {
        if (!Transport.kind().canHandOver() || !TransportKind.EPOLL.isAvailable()) {
            throw new HandoverException(option + " needs Linux and a native transport (io_uring or epoll), which"
                    + " this platform does not have (the transport here is " + Transport.name() + ")");
        }
    }

    /**
     * The loop of the hand-over's Unix socket, which passes the listening sockets' descriptors: epoll's, whichever
     * transport serves the traffic. Netty 4.2.18's io_uring domain socket channel receiving descriptors reads a
     * stream of invalid ones and never sees the sender's end; the sockets themselves are the kernel's and any native
     * transport adopts them.
     */
    static EventLoopGroup eventLoop(String name) {
        return Transport.eventLoops(TransportKind.EPOLL, 1, name);
    }

    /** The user this process runs as. */
    static int ownUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new HandoverException("cannot tell which user this process runs as: " + e.getMessage(), e);
        }
    }

    /** Whether a process of user {@code self} may take over from (and signal) a process of user {@code other}. */
    static boolean maySignal(int other, int self) {
        return other == self || self == 0;
    }

    /** Whether the file at {@code path} (which exists) is a Unix domain socket. */
    static boolean isSocket(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000; // S_IFMT, S_IFSOCK
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a process accepts connections on the Unix socket at {@code path}. */
    static boolean isLive(Path path) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return probe.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException refused) {
            return false;
        }
    }
}
