package io.kontena.lb.proxy.http;

import io.netty.channel.ChannelHandler;
import io.netty.handler.flow.FlowControlHandler;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a client connection's {@link FlowControlHandler} holds messages read but not yet asked for: requests the
 * client pipelined. Asked only once a client has ended its side, to tell whether the answer being made is its last.
 * Netty has the answer ({@code isQueueEmpty}) but keeps it package-private, hence the reflection.
 */
final class ClientQueue {
    private static final Logger log = LoggerFactory.getLogger(ClientQueue.class);
    /** FlowControlHandler.isQueueEmpty(), (FlowControlHandler) boolean; null when Netty has no such method. */
    private static final MethodHandle IS_QUEUE_EMPTY = isQueueEmpty();

    private ClientQueue() {
    }

    /** True when {@code flow} holds no message; false when it holds some or cannot tell. */
    static boolean isEmpty(ChannelHandler flow) {
        if (IS_QUEUE_EMPTY == null || !(flow instanceof FlowControlHandler f)) {
            return false;
        }
        try {
            return (boolean) IS_QUEUE_EMPTY.invokeExact(f);
        } catch (Throwable e) {
            return false;
        }
    }

    private static MethodHandle isQueueEmpty() {
        try {
            Method m = FlowControlHandler.class.getDeclaredMethod("isQueueEmpty");
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m)
                    .asType(MethodType.methodType(boolean.class, FlowControlHandler.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("cannot reach FlowControlHandler.isQueueEmpty ({}): the last answer to a client that ended"
                    + " its side will not say Connection: close", e.toString());
            return null;
        }
    }
}
