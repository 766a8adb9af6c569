package io.kontena.lb.cli;

import io.kontena.lb.admin.AdminServer;
import io.kontena.lb.admin.ConfigView;
import io.kontena.lb.admin.Metrics;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.handover.HandoverSocket;
import io.kontena.lb.handover.TakeOver;
import io.kontena.lb.proxy.InheritedSockets;
import io.kontena.lb.proxy.ProxyRuntime;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.source.ConfigWatcher;
import io.kontena.lb.source.ConfigSource;
import io.netty.channel.unix.FileDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import sun.misc.Signal;
import sun.misc.SignalHandler;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs a load balancer service of a stack file, or of etcd, for the services",
                "linked to it. A saved change of the file, or a change in etcd, applies without",
                "a restart; SIGHUP reads the configuration again too.",
                "SIGTERM stops accepting, lets open requests finish (up to the drain timeout)",
                "and exits. A process started with --take-over PATH takes the listening sockets",
                "over from one started with --handover-socket PATH: an upgrade refuses no connection."})
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);
    /**
     * How long a process that took no sockets over serves before it settles its start-up state (see
     * {@link #settleStartupState}): the collection stops every thread for about 25 ms on one core, which before the
     * first request would hold that request up; a second in, the requests of that moment wait instead, once.
     */
    private static final long SETTLE_AFTER_MS = 1000;

    @Mixin
    SourceOptions source = new SourceOptions();

    @Mixin
    ProxyOptions proxy = new ProxyOptions();

    @Mixin
    HandoverOptions handover = new HandoverOptions();

    @Override
    public Integer call() throws Exception {
        return serve(source::open, proxy, handover, config -> { });
    }

    /** Opens the configuration source, which follows changes through the watcher. */
    interface SourceOpener {
        ConfigSource open(ConfigWatcher watcher) throws Exception;
    }

    /**
     * Serves a configuration source, following its changes, until the process is told to stop.
     *
     * @param beforeStart sees the first configuration before any listener opens
     */
    static int serve(SourceOpener opener, ProxyOptions options, HandoverOptions handover,
                     Consumer<LbConfig> beforeStart) throws Exception {
        long start = System.nanoTime();
        ProxyRuntime.Settings settings = options.settings();
        // Taken over first: until this process tells it to stop, the previous one serves as before, so any
        // failure from here on leaves it untouched.
        TakeOver previous = handover.from == null ? null : TakeOver.from(handover.from);
        InheritedSockets inherited = previous == null ? InheritedSockets.none() : previous.sockets();
        ProxyRuntime runtime = new ProxyRuntime(settings, inherited);
        List<AutoCloseable> started = new ArrayList<>(List.of(inherited, runtime));
        ConfigWatcher watcher = new ConfigWatcher(runtime);
        AdminServer admin;
        HandoverSocket handoverSocket;
        ConfigSource source;
        LbConfig first;
        try {
            source = opener.open(watcher);
            started.add(0, source);
            first = source.load();
            beforeStart.accept(first);
            List<Problem> unavailable = watcher.offer(first);
            if (!unavailable.isEmpty()) {
                log.error("not started: {}", unavailable.stream().map(Problem::message)
                        .collect(java.util.stream.Collectors.joining("; ")));
                closeAll(started);
                return 1;
            }
            admin = options.admin == null ? null : AdminServer.start(options.adminHost(), options.adminPort(),
                    () -> ConfigView.of(watcher.generation(), watcher.applied(), watcher.problems(),
                            runtime.boundPorts(), runtime.upstreamStates(), runtime.openConnections(),
                            runtime.maxConnections()),
                    () -> Metrics.text(watcher.generation(), watcher.problems().size(), runtime.openConnections(),
                            runtime.maxConnections(), runtime.upstreamStates()),
                    () -> watcher.applied().frontend().statsPassword(), inherited);
            if (admin != null) {
                started.add(0, admin);
                log.info("admin API and statistics page on {}:{}", options.adminHost(), admin.port());
            } else if (first.frontend().statsPassword().isPresent()) {
                log.warn("STATS_PASSWORD is set, but the statistics page is served with the admin API: add --admin "
                        + "PORT (--admin 1000 where Kontena's was)");
            }
            handoverSocket = handover.socket == null ? null : HandoverSocket.start(handover.socket, handover.from,
                    use -> runtime.withListeningSockets(fds -> {
                        List<FileDescriptor> all = new ArrayList<>(fds);
                        if (admin != null) {
                            all.add(admin.socket());
                        }
                        use.accept(all);
                    }));
        } catch (Exception e) {
            closeAll(started);
            throw e;
        }
        if (previous != null) {
            settleStartupState();   // now, while the previous process still serves: the pause delays no request
        }
        inherited.serve();
        source.start();
        Signal.handle(new Signal("HUP"), signal -> {
            log.info("SIGHUP: reading {} again", source.description());
            source.reload();
        });
        log.info("serving {} http and {} tcp service(s) of {} with {} {} event loop(s), at most {} connections at "
                + "once, ready in {} ms", first.http().size(), first.tcp().size(), source.description(),
                settings.workers(), Transport.name(), runtime.maxConnections(),
                (System.nanoTime() - start) / 1_000_000);
        ClassArchive.serving();
        if (previous != null) {
            previous.stopPrevious();
        }

        // SIGTERM and SIGINT are handled here rather than by a shutdown hook, so that a clean drain exits 0.
        CountDownLatch stop = new CountDownLatch(1);
        SignalHandler stopOnSignal = signal -> stop.countDown();
        Signal.handle(new Signal("TERM"), stopOnSignal);
        Signal.handle(new Signal("INT"), stopOnSignal);
        if (previous == null && !stop.await(SETTLE_AFTER_MS, TimeUnit.MILLISECONDS)) {
            settleStartupState();
        }
        stop.await();
        log.info("stopping: no new connections; open ones have up to {} s to finish",
                settings.drainTimeout().toSeconds());
        // Everything that accepts stops first; then the open connections drain.
        runtime.stopAccepting();
        if (handoverSocket != null) {
            handoverSocket.close();
        }
        if (admin != null) {
            admin.close();
        }
        source.close();
        runtime.drainAndClose();
        log.info("stopped");
        return 0;
    }

    /**
     * Moves what start-up built (configuration, routing tables, Netty's pools, class metadata: a few MB that live
     * as long as the process) into the old generation in one full collection early on, instead of letting the young
     * collections under the first minute of traffic copy it from survivor space to survivor space until it is old
     * enough to be promoted: measured at 1 thread, that is 15 or so pauses of 6-10 ms where later ones take 0.6 ms,
     * and they set the tail latency of the first ~20 s of load.
     */
    private static void settleStartupState() {
        long t0 = System.nanoTime();
        System.gc();
        log.debug("start-up state settled in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }

    private static void closeAll(List<AutoCloseable> started) {
        for (AutoCloseable c : started) {
            try {
                c.close();
            } catch (Exception e) {
                log.debug("closing {} failed", c, e);
            }
        }
    }
}
