package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.handler.ssl.SslHandler;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends what a TLS handshake flushes at once, on io_uring. Netty 4.2.18's io_uring loop hands its queued writes to
 * the kernel only after it has handled every completion at hand, and a full handshake costs the better part of a
 * millisecond of CPU (the server's signature): with dozens of client hellos in one batch, every server hello waited
 * for the whole batch, the clients idled meanwhile, and the loop then idled waiting for them (0.67x HAProxy's
 * handshake rate, against epoll's 0.87x). So, first in a TLS connection's pipeline until its handshake is done, each
 * flush is followed by a submission of the loop's queue: epoll's rate then (1,481 against 1,492 handshakes per second,
 * 1 thread, 3 rounds). After the handshake, writes are batched as usual, which is what makes io_uring cheaper than
 * epoll for requests.
 *
 * <p>Netty has no public way to submit now: the loop's handler, its ring and the submission are reached by
 * reflection, confined here. Where they cannot be reached, handshakes work as before, only batched.
 */
final class UringHandshakeFlush extends ChannelOutboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(UringHandshakeFlush.class);
    // Each (Object) Object, SUBMIT (Object, Object) void; all null where Netty's internals differ.
    /** SingleThreadIoEventLoop.ioHandler: the loop's IoUringIoHandler. */
    private static final MethodHandle IO_HANDLER;
    /** IoUringIoHandler.ringBuffer. */
    private static final MethodHandle RING_BUFFER;
    /** RingBuffer.ioUringSubmissionQueue(). */
    private static final MethodHandle QUEUE;
    /** IoUringIoHandler.submitAndClearNow(SubmissionQueue): what the loop itself calls between completions. */
    private static final MethodHandle SUBMIT;

    static {
        MethodHandle[] handles = new MethodHandle[4];
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            Field ioHandler = SingleThreadIoEventLoop.class.getDeclaredField("ioHandler");
            Field ringBuffer = IoUringIoHandler.class.getDeclaredField("ringBuffer");
            Method queue = ringBuffer.getType().getDeclaredMethod("ioUringSubmissionQueue");
            Method submit = IoUringIoHandler.class.getDeclaredMethod("submitAndClearNow", queue.getReturnType());
            for (var member : new java.lang.reflect.AccessibleObject[] {ioHandler, ringBuffer, queue, submit}) {
                member.setAccessible(true);
            }
            MethodType unary = MethodType.methodType(Object.class, Object.class);
            handles[0] = lookup.unreflectGetter(ioHandler).asType(unary);
            handles[1] = lookup.unreflectGetter(ringBuffer).asType(unary);
            handles[2] = lookup.unreflect(queue).asType(unary);
            handles[3] = lookup.unreflect(submit)
                    .asType(MethodType.methodType(void.class, Object.class, Object.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.info("io_uring: cannot reach Netty's submission queue ({}); TLS handshakes are sent in batches",
                    e.toString());
            handles = new MethodHandle[4];
        }
        IO_HANDLER = handles[0];
        RING_BUFFER = handles[1];
        QUEUE = handles[2];
        SUBMIT = handles[3];
    }

    private UringHandshakeFlush() {
    }

    /** Puts the handler first in the pipeline of an io_uring channel; a no-op where it cannot work. */
    static void addTo(Channel ch) {
        if (SUBMIT != null) {
            ch.pipeline().addFirst(new UringHandshakeFlush());
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        submit(ctx.channel().eventLoop());
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl != null && ssl.handshakeFuture().isDone()) {
            ctx.pipeline().remove(this);
        }
    }

    /** Hands the io_uring operations queued on {@code loop} to the kernel now. Call on the loop. */
    static void submit(EventLoop loop) {
        try {
            Object handler = IO_HANDLER.invokeExact((Object) loop);
            Object queue = QUEUE.invokeExact(RING_BUFFER.invokeExact(handler));
            SUBMIT.invokeExact(handler, queue);
        } catch (Throwable e) {
            log.debug("cannot submit the io_uring queue now: {}", e.toString());
        }
    }

    static boolean available() {
        return SUBMIT != null;
    }
}
