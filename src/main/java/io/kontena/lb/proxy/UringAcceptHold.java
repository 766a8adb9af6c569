package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import java.lang.reflect.Field;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops an io_uring listening channel from accepting again at once after an accept failed. Netty 4.2.18 accepts
 * with one multishot request, and when the kernel ends it with an error (EMFILE: out of open files) Netty arms a new
 * one whatever auto-read says: it fails at once on the same queued connection, again and again, a core spent on
 * failing. The channel's own stop for a read that failed, {@code inputClosedSeenErrorOnRead}, is the one thing that
 * arming checks; it is private, hence the reflection. Netty's accepting without multishot respects auto-read, but
 * accepted about 15% fewer new connections per second under load here.
 */
final class UringAcceptHold {
    private static final Logger log = LoggerFactory.getLogger(UringAcceptHold.class);
    private static final Field HOLD = field();

    private UringAcceptHold() {
    }

    static boolean available() {
        return HOLD != null;
    }

    /** On the channel's event loop. */
    static void set(Channel listener, boolean hold) {
        try {
            HOLD.setBoolean(listener, hold);
        } catch (IllegalAccessException | IllegalArgumentException e) {
            log.debug("cannot hold the accepting of {}: {}", listener, e.toString());
        }
    }

    private static Field field() {
        try {
            Field f = Class.forName("io.netty.channel.uring.AbstractIoUringChannel")
                    .getDeclaredField("inputClosedSeenErrorOnRead");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("io_uring: cannot reach AbstractIoUringChannel.inputClosedSeenErrorOnRead ({}): a process out "
                    + "of open files would try to accept without pause", e.toString());
            return null;
        }
    }
}
