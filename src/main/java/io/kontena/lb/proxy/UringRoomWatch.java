package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.channel.uring.IoUringSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets an io_uring channel whose peer has ended its side still wait for room to write.
 *
 * <p>Netty 4.2.18 waits for room with a one-shot poll for POLLOUT. io_uring always adds POLLRDHUP to a poll's
 * events, so once the peer's FIN has arrived that poll completes at once with POLLRDHUP alone; Netty takes it for
 * the end of input and never asks for room again, and everything still to be written stays unsent. So such a
 * channel gets a second, multishot poll for POLLOUT, submitted through a registration of its own whose completions
 * are handed to the channel's own handler: each time room comes, Netty takes it for its own poll's completion and
 * writes again. The poll holds the socket open, so it is cancelled when the channel closes. Public Netty API only.
 *
 * <p>It matters for the connections this process makes (upstreams): their sockets are non-blocking, and their writes
 * wait through that poll. Netty's io_uring accepts blocking sockets, whose writes io_uring itself holds until there
 * is room, so a client's connection does not stall; the watch costs it nothing but a poll.
 */
final class UringRoomWatch implements IoUringIoHandle {
    private static final Logger log = LoggerFactory.getLogger(UringRoomWatch.class);
    // io_uring's ABI (linux/io_uring.h, poll.h); Netty keeps its copies package-private
    private static final byte IORING_OP_POLL_ADD = 6;
    private static final byte IORING_OP_ASYNC_CANCEL = 14;
    private static final int IORING_POLL_ADD_MULTI = 1;
    private static final int IORING_CQE_F_MORE = 1 << 1;
    private static final int POLLOUT = 0x4;

    private final IoUringSocketChannel channel;
    private final IoUringIoHandle channelHandle;
    private IoRegistration registration;
    private long pollId;

    private UringRoomWatch(IoUringSocketChannel channel) {
        this.channel = channel;
        this.channelHandle = (IoUringIoHandle) channel.unsafe();
    }

    /** Call on the channel's event loop, when its input has ended and it stays open to write. */
    static void watch(Channel ch) {
        if (!(ch instanceof IoUringSocketChannel uring) || !(ch.eventLoop() instanceof IoEventLoop loop)
                || !ch.isOpen()) {
            return;
        }
        UringRoomWatch watch = new UringRoomWatch(uring);
        loop.register(watch).addListener(f -> {
            if (f.isSuccess()) {
                watch.start((IoRegistration) f.getNow());
            } else {
                log.debug("cannot watch {} for room to write: {}", ch, f.cause().toString());
            }
        });
    }

    private void start(IoRegistration registration) {
        this.registration = registration;
        submitPoll();
        channel.closeFuture().addListener(f -> stop());
    }

    private void submitPoll() {
        pollId = registration.submit(new IoUringIoOps(IORING_OP_POLL_ADD, (byte) 0, (short) 0,
                channel.fd().intValue(), 0L, 0L, IORING_POLL_ADD_MULTI, POLLOUT, 0L, (short) 0, (short) 0, 0, 0L));
    }

    private void stop() {
        if (registration.isValid() && pollId != 0) {
            registration.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0L, pollId, 0, 0,
                    0L, (short) 0, (short) 0, 0, 0L));
            pollId = 0;
        }
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        IoUringIoEvent e = (IoUringIoEvent) event;
        if (e.opcode() != IORING_OP_POLL_ADD) {
            return; // the cancel's own completion
        }
        if (e.res() > 0 && (e.res() & POLLOUT) != 0) {
            // Handed to the channel as the completion of a poll for POLLOUT alone: it writes again. (The POLLRDHUP
            // that comes with it would only make the channel read its ended input once more.)
            channelHandle.handle(registration, new IoUringIoEvent(POLLOUT, 0, IORING_OP_POLL_ADD, e.userData()));
        }
        if ((e.flags() & IORING_CQE_F_MORE) == 0) {
            // The kernel ended the multishot poll (cancelled, or it could not post): poll again while it matters.
            pollId = 0;
            if (channel.isOpen() && registration.isValid()) {
                submitPoll();
            } else {
                registration.cancel();
            }
        }
    }

    @Override
    public void close() {
        if (registration != null) {
            registration.cancel();
        }
    }
}
