package io.kontena.lb.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the listeners accepting while the process holds as many client connections as it may, and starts them again
 * when one closes. Meanwhile new connections wait in the kernel's accept queue (the listen backlog), as HAProxy's do
 * at its maxconn, instead of being taken by a process that could not serve them: each may need an upstream
 * connection, and a process out of open files fails both.
 *
 * <p>An accept the kernel fails (EMFILE, ENFILE: files held by something other than client connections, such as
 * pooled upstream connections) stops accepting too, until a connection closes or a second has passed. Left alone,
 * the listener would be woken for the same queued connection at once, again and again: a core spent on failing.
 *
 * <p>One thread decides ({@link #update}), so a pause and a resume never cross; the event loops only count and ask
 * for a decision when the count reaches the limit, or goes down while accepting is stopped.
 */
final class AcceptGate implements ChannelFutureListener {
    private static final Logger log = LoggerFactory.getLogger(AcceptGate.class);
    private static final long STARVED_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final String WAITING = "new connections wait in the kernel's accept queue until one closes";
    /** A client connection's own file and its upstream connection's. */
    private static final int FILES_PER_CONNECTION = 2;
    /** Files kept for all else: listeners, health checks, etcd, logs, more upstream connections for HTTP/2. */
    private static final int SPARE_FILES = 64;

    private final int limit;
    private final String limitSource;
    private final EventExecutor decider;
    /** The listening channels, and those of them this gate stopped (to start again only those). */
    private final Set<Channel> listeners = ConcurrentHashMap.newKeySet();
    private final Set<Channel> stopped = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicBoolean updateAsked = new AtomicBoolean();
    private volatile boolean paused;
    /** System.nanoTime() until which a failed accept keeps accepting stopped; 0 when none is. */
    private volatile long starvedUntil;
    // on the decider only: when each reason to stop was last logged
    private long lastFullWarning = System.nanoTime() - WARN_EVERY_NANOS;
    private long lastStarvedWarning = lastFullWarning;
    private String starvedBy;

    /**
     * A gate at {@code maxConnections}, or (0) at what the process's open-file limit allows beside the files it
     * has open now: two per connection, and some to spare. A greater {@code maxConnections} than that is lowered to
     * it, with a warning: past it, accepts would fail rather than wait.
     */
    static AcceptGate of(int maxConnections, EventExecutor decider) {
        long files = openFileLimit();
        String[] inUse = new java.io.File("/proc/self/fd").list();
        long allowed = files < 0 || inUse == null ? Integer.MAX_VALUE
                : Math.max(1, (files - inUse.length - SPARE_FILES) / FILES_PER_CONNECTION);
        String filesSource = "the open-file limit (ulimit -n) of " + files + " allows " + allowed;
        if (maxConnections == 0) {
            return new AcceptGate((int) Math.min(allowed, Integer.MAX_VALUE), filesSource, decider);
        }
        if (maxConnections > allowed) {
            log.warn("--max-connections {} is more than {} (two files per connection); taking {}: raise the limit "
                    + "to hold more", maxConnections, filesSource, allowed);
            return new AcceptGate((int) allowed, filesSource, decider);
        }
        return new AcceptGate(maxConnections, "--max-connections " + maxConnections, decider);
    }

    /** The most files this process may open (its soft RLIMIT_NOFILE, which the JVM raises to the hard one), or -1. */
    private static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("no open-file limit read from /proc/self/limits: {}", e.toString());
        }
        return -1;
    }

    /**
     * @param limit       the most client connections held at once
     * @param limitSource what set the limit, for the log
     * @param decider     the thread that pauses and resumes
     */
    AcceptGate(int limit, String limitSource, EventExecutor decider) {
        this.limit = limit;
        this.limitSource = limitSource;
        this.decider = decider;
    }

    int limit() {
        return limit;
    }

    /** Client connections open now: accepted and not closed yet, on open and on draining listeners. */
    int open() {
        return open.get();
    }

    void add(Channel listener) {
        listeners.add(listener);
        if (paused) {
            askUpdate(); // stop it too
        }
    }

    void remove(Channel listener) {
        listeners.remove(listener);
        stopped.remove(listener);
    }

    /** A connection was accepted; on its listener's event loop. */
    void accepted(Channel connection) {
        connection.closeFuture().addListener(this);
        if (open.incrementAndGet() >= limit) {
            // This listener stops at once, before it accepts the next: the decider may be another thread.
            Channel listener = connection.parent();
            if (listener.config().isAutoRead()) {
                listener.config().setAutoRead(false);
                stopped.add(listener);
            }
            askUpdate();
        }
    }

    /** A connection closed. */
    @Override
    public void operationComplete(ChannelFuture closed) {
        open.decrementAndGet();
        if (paused) {
            starvedUntil = 0; // a file is free again
            askUpdate();
        }
    }

    /** An accept failed: {@code cause} says why. On the listener's event loop. */
    void acceptFailed(Channel listener, Throwable cause) {
        // At once, before the channel asks to accept again.
        Transport.holdAccepts(listener, true);
        listener.config().setAutoRead(false);
        stopped.add(listener);
        decider.execute(() -> starved(listener, cause));
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
        boolean full = open.get() >= limit;
        boolean pause = full || starved;
        if (pause && !paused && full && now - lastFullWarning >= WARN_EVERY_NANOS) {
            lastFullWarning = now;
            log.warn("{} client connections open, the most this process holds at once ({}): {}", open.get(),
                    limitSource, WAITING);
        } else if (pause && !paused && starved && now - lastStarvedWarning >= WARN_EVERY_NANOS) {
            lastStarvedWarning = now;
            log.warn("{} ({} client connections open): {} or a second passes; out of open files, raise the "
                    + "process's limit (ulimit -n) or lower --max-connections", starvedBy, open.get(), WAITING);
        }
        paused = pause;
        for (Channel l : listeners) {
            l.eventLoop().execute(pause ? () -> stop(l) : () -> start(l));
        }
        if (pause && !starved && open.get() < limit) {
            askUpdate(); // a connection closed before it could see paused: look again
        }
    }

    /** Stops a listener that accepts; one that does not yet (a claimed socket before it serves) is left alone. */
    private void stop(Channel listener) {
        if (paused && listener.isOpen() && listener.config().isAutoRead()) {
            listener.config().setAutoRead(false);
            stopped.add(listener);
        }
    }

    private void start(Channel listener) {
        if (!paused && stopped.remove(listener) && listener.isOpen()) {
            Transport.holdAccepts(listener, false);
            listener.config().setAutoRead(true);
        }
    }
}
