package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.Errors;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the listeners accepting while the process holds as many client connections as it may, and starts them again
 * when one closes. Meanwhile new connections wait in the kernel's accept queue (the listen backlog), as HAProxy's do
 * at its maxconn, instead of being taken by a process that could not serve them: each may need an upstream
 * connection, and a process out of open files fails both.
 *
 * <p>The limit is exact but for the moment accepting starts again: each listener accepts at least one connection
 * before it stops, and with io_uring the kernel's multishot accept takes a listener's whole queue at once. Accepting
 * one at a time would make it exact, and cost about 15% of the new connections per second under load (measured).
 *
 * <p>An accept the kernel fails for want of files or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM: files held by
 * something other than client connections, such as pooled upstream connections) stops accepting too, until a
 * connection closes or a second has passed. Left alone, the listener would be woken for the same queued connection
 * at once, again and again: a core spent on failing. Other accept errors concern one connection, which the kernel
 * has dropped: accepting goes on.
 *
 * <p>One thread decides ({@link #update}), so a pause and a resume never cross; an event loop counts, stops its own
 * listener the moment it reaches the limit or an accept fails, and asks for a decision.
 */
final class AcceptGate implements ChannelFutureListener {
    private static final Logger log = LoggerFactory.getLogger(AcceptGate.class);
    private static final long STARVED_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final String WAITING = "new connections wait in the kernel's accept queue until one closes";
    // Linux's errno values
    private static final int ENOMEM = 12;
    private static final int ENFILE = 23;
    private static final int EMFILE = 24;
    private static final int ENOBUFS = 105;

    private final int limit;
    private final String limitSource;
    private final EventExecutor decider;
    /** The listening channels, and those of them this gate stopped (to start again only those). */
    private final Set<Channel> listeners = ConcurrentHashMap.newKeySet();
    private final Set<Channel> stopped = ConcurrentHashMap.newKeySet();
    /** The event loops, and the client connections each serves. */
    private final EventLoop[] loops;
    private final AtomicIntegerArray perLoop;
    /** Where the search for the loop with the fewest starts, so that ties go round. */
    private final AtomicInteger rotation = new AtomicInteger();
    private final AtomicBoolean updateAsked = new AtomicBoolean();
    private volatile boolean paused;
    /** System.nanoTime() until which a failed accept keeps accepting stopped; 0 when none is. */
    private volatile long starvedUntil;
    // on the decider only: when each reason to stop was last logged
    private long lastFullWarning = System.nanoTime() - WARN_EVERY_NANOS;
    private long lastStarvedWarning = lastFullWarning;
    private String starvedBy;

    /**
     * @param limit the most client connections held at once
     * @param loops the event loops that serve the connections; the first also pauses and resumes
     */
    AcceptGate(ConnectionLimit limit, EventLoopGroup loops) {
        this.limit = limit.value();
        this.limitSource = limit.source();
        List<EventLoop> all = new ArrayList<>();
        for (EventExecutor loop : loops) {
            all.add((EventLoop) loop);
        }
        this.loops = all.toArray(new EventLoop[0]);
        this.perLoop = new AtomicIntegerArray(this.loops.length);
        this.decider = this.loops[0];
    }

    int limit() {
        return limit;
    }

    /** Client connections open now: accepted and not closed yet, on open and on draining listeners. */
    int open() {
        int n = 0;
        for (int i = 0; i < loops.length; i++) {
            n += perLoop.get(i);
        }
        return n;
    }

    /** A listener to stop and start; one that starts accepting while the gate is shut stops at its first accept. */
    void add(Channel listener) {
        listeners.add(listener);
    }

    void remove(Channel listener) {
        listeners.remove(listener);
        stopped.remove(listener);
    }

    /**
     * A connection was accepted; on its listener's event loop. It goes to the loop that serves the fewest: that
     * evens out what each does, the listener's own loop accepting besides (handing the connections round in turn
     * left that loop behind: 15% fewer TCP connections a second at two loops, measured).
     *
     * @return the loop to register the connection with
     */
    EventLoop accepted(Channel connection) {
        int start = Math.floorMod(rotation.getAndIncrement(), loops.length);
        int best = start;
        int fewest = perLoop.get(start);
        int total = fewest;
        for (int k = 1; k < loops.length; k++) {
            int i = (start + k) % loops.length;
            int n = perLoop.get(i);
            total += n;
            if (n < fewest) {
                best = i;
                fewest = n;
            }
        }
        perLoop.incrementAndGet(best);
        connection.closeFuture().addListener(this);
        if (total + 1 >= limit) {
            stop(connection.parent()); // at once, before it accepts the next: the decider may be another thread
            askUpdate();
        }
        return loops[best];
    }

    /** A connection closed: it was registered with one of the loops (a failed registration closes it too). */
    @Override
    public void operationComplete(ChannelFuture closed) {
        EventLoop loop = closed.channel().eventLoop();
        for (int i = 0; i < loops.length; i++) {
            if (loops[i] == loop) {
                perLoop.decrementAndGet(i);
                break;
            }
        }
        if (paused) {
            starvedUntil = 0; // a file is free again
            askUpdate();
        }
    }

    /** An accept failed: {@code cause} says why. On the listener's event loop. */
    void acceptFailed(Channel listener, Throwable cause) {
        if (!outOfResources(cause)) {
            log.debug("accepting on {} failed: {}", listener.localAddress(), cause.toString());
            return;
        }
        stop(listener); // at once, before the channel asks to accept again
        decider.execute(() -> starved(listener, cause));
    }

    /** EMFILE, ENFILE, ENOBUFS or ENOMEM: the connection stays queued, and accepting it again would fail again. */
    static boolean outOfResources(Throwable cause) {
        if (cause instanceof Errors.NativeIoException e) {
            int errno = Math.abs(e.expectedErr());
            return errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;
        }
        String message = String.valueOf(cause.getMessage()); // NIO
        return message.contains("Too many open files") || message.contains("No buffer space")
                || message.contains("Cannot allocate memory");
    }

    private void starved(Channel listener, Throwable cause) {
        starvedUntil = System.nanoTime() + STARVED_NANOS;
        starvedBy = "accepting on " + listener.localAddress() + " failed: " + cause.getMessage();
        decider.schedule(this::askUpdate, STARVED_NANOS, TimeUnit.NANOSECONDS);
        update();
    }

    private void askUpdate() {
        if (updateAsked.compareAndSet(false, true)) {
            decider.execute(this::update);
        }
    }

    /** Stops or starts the listeners as the count and the last failed accept say; on the decider. */
    private void update() {
        updateAsked.set(false);
        long now = System.nanoTime();
        long until = starvedUntil;
        boolean starved = until != 0 && now - until < 0;
        int open = open();
        boolean full = open >= limit;
        boolean pause = full || starved;
        boolean shut = pause && !paused;
        if (shut && full && now - lastFullWarning >= WARN_EVERY_NANOS) {
            lastFullWarning = now;
            log.warn("{} client connections open, the most this process holds at once ({}): {}", open, limitSource,
                    WAITING);
        } else if (shut && starved && now - lastStarvedWarning >= WARN_EVERY_NANOS) {
            lastStarvedWarning = now;
            log.warn("{} ({} client connections open): {} or a second passes; if out of open files, raise the "
                    + "process's limit (ulimit -n) or lower --max-connections", starvedBy, open, WAITING);
        }
        paused = pause;
        if (shut) {
            for (Channel l : listeners) {
                l.eventLoop().execute(() -> stopIfPaused(l));
            }
        } else if (!pause) {
            for (Channel l : stopped) { // those that stopped themselves too
                l.eventLoop().execute(() -> start(l));
            }
        }
        if (pause && !starved && open() < limit) {
            askUpdate(); // a connection closed before it could see paused: look again
        }
    }

    private void stopIfPaused(Channel listener) {
        if (paused) {
            stop(listener);
        }
    }

    /**
     * Stops a listener that accepts (one that does not yet, a claimed socket before it serves, is left alone); on its
     * event loop. io_uring also holds it, as Netty would arm a multishot accept again that ended, auto-read or not.
     */
    private void stop(Channel listener) {
        if (listener.isOpen() && listener.config().isAutoRead() && listeners.contains(listener)) {
            Transport.holdAccepts(listener, true);
            listener.config().setAutoRead(false);
            stopped.add(listener);
        }
    }

    private void start(Channel listener) {
        if (!paused && stopped.remove(listener) && listener.isOpen()) {
            Transport.holdAccepts(listener, false);
            if (listener.config().isAutoRead()) {
                listener.read(); // turned on meanwhile, while held: ask again
            } else {
                listener.config().setAutoRead(true);
            }
        }
    }
}
