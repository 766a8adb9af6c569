package io.kontena.lb.cli;

import io.kontena.lb.proxy.ProxyRuntime;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How the data plane runs; shared by the commands that serve traffic. */
final class ProxyOptions {
    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "0.0.0.0",
            description = "Address the listeners bind to (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--workers", paramLabel = "N",
            description = "Event loop threads (default: one per core).")
    Integer workers;

    @Option(names = "--access-log", paramLabel = "true|false", defaultValue = "true", arity = "0..1",
            fallbackValue = "true", description = "One line per request on stdout (default: ${DEFAULT-VALUE}).")
    boolean accessLog;

    ProxyRuntime.Settings settings() {
        int threads = workers == null ? Runtime.getRuntime().availableProcessors() : workers;
        if (threads < 1) {
            throw new IllegalArgumentException("--workers must be at least 1, not " + threads);
        }
        return new ProxyRuntime.Settings(bind, threads, accessLog, Duration.ofSeconds(30));
    }
}
