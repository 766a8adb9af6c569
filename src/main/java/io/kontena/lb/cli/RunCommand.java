package io.kontena.lb.cli;

import io.kontena.lb.admin.AdminServer;
import io.kontena.lb.admin.ConfigView;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.proxy.ProxyRuntime;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.source.ConfigWatcher;
import io.kontena.lb.source.StackFileSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs a load balancer service of a stack file for the services linked to it.",
                "A saved change of the file applies without a restart; SIGHUP re-reads it too.",
                "SIGTERM stops accepting, lets open requests finish (up to the drain timeout)",
                "and exits."})
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    StackOptions stack = new StackOptions();

    @Mixin
    ProxyOptions proxy = new ProxyOptions();

    @Override
    public Integer call() throws Exception {
        return serve(stack.stack, Optional.ofNullable(stack.lb), proxy, config -> { });
    }

    /**
     * Serves a stack file, following its changes, until the process is told to stop.
     *
     * @param beforeStart sees the first configuration before any listener opens
     */
    static int serve(Path file, Optional<String> lb, ProxyOptions options, Consumer<LbConfig> beforeStart)
            throws Exception {
        long start = System.nanoTime();
        ProxyRuntime.Settings settings = options.settings();
        ProxyRuntime runtime = new ProxyRuntime(settings);
        ConfigWatcher watcher = new ConfigWatcher(runtime);
        StackFileSource source = new StackFileSource(file, lb, watcher);
        LbConfig first;
        try {
            first = source.load();
            beforeStart.accept(first);
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
        if (!watcher.offer(first).isEmpty()) {
            runtime.close();
            return 1;
        }
        AdminServer admin = options.admin == null ? null : AdminServer.start(options.adminHost(), options.adminPort(),
                () -> ConfigView.of(watcher.generation(), watcher.applied(), watcher.problems(), runtime.boundPorts()));
        if (admin != null) {
            log.info("admin API on {}:{}", options.adminHost(), admin.port());
        }
        source.start();
        Signal.handle(new Signal("HUP"), signal -> {
            log.info("SIGHUP: reading {} again", file);
            source.reload();
        });
        log.info("serving {} http and {} tcp service(s) with {} {} event loop(s), ready in {} ms",
                first.http().size(), first.tcp().size(), settings.workers(), Transport.name(),
                (System.nanoTime() - start) / 1_000_000);

        // SIGTERM and SIGINT are handled here rather than by a shutdown hook, so that a clean drain exits 0.
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), signal -> stop.countDown());
        Signal.handle(new Signal("INT"), signal -> stop.countDown());
        stop.await();
        log.info("stopping: no new connections; open ones have up to {} s to finish",
                settings.drainTimeout().toSeconds());
        source.close();
        runtime.drainAndClose();
        if (admin != null) {
            admin.close();
        }
        log.info("stopped");
        return 0;
    }
}
