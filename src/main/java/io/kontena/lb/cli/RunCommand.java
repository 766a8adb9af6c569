package io.kontena.lb.cli;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.proxy.ProxyRuntime;
import io.kontena.lb.proxy.Transport;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Runs a load balancer service of a stack file, balancing the services linked to it.")
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    StackOptions stack = new StackOptions();

    @Mixin
    ProxyOptions proxy = new ProxyOptions();

    @Override
    public Integer call() throws InterruptedException {
        return run(stack.load(), proxy.settings());
    }

    /** Serves the configuration until the process is told to stop. */
    static int run(LbConfig config, ProxyRuntime.Settings settings) throws InterruptedException {
        for (Problem p : config.problems()) {
            log.warn("rejected: {}", p);
        }
        long start = System.nanoTime();
        ProxyRuntime runtime = new ProxyRuntime(settings);
        List<Problem> failed = runtime.apply(config);
        if (!failed.isEmpty()) {
            failed.forEach(p -> log.error("{}", p.message()));
            runtime.close();
            return 1;
        }
        log.info("serving {} http and {} tcp service(s) with {} {} event loop(s), ready in {} ms",
                config.http().size(), config.tcp().size(), settings.workers(), Transport.name(),
                (System.nanoTime() - start) / 1_000_000);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            runtime.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }
}
