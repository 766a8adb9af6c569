package io.kontena.lb.handover;

import io.kontena.lb.proxy.Transport;
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

    static void requireEpoll(String option) {
        if (!Transport.isEpoll()) {
            throw new HandoverException(option + " needs Linux and its native epoll transport, which this"
                    + " platform does not have (the transport here is " + Transport.name() + ")");
        }
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
