package io.kontena.lb.cli;

import io.kontena.lb.proxy.ProxyRuntime;
import java.net.InetAddress;
import java.net.UnknownHostException;
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

    @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long open connections may take to finish when services or upstreams are removed"
                    + " and at shutdown (default: ${DEFAULT-VALUE}).")
    int drainSeconds;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "Client connections held at once; more wait in the kernel's accept queue until one closes"
                    + " (default: as many as the open-file limit, ulimit -n, allows at two files per connection).")
    Integer maxConnections;

    @Option(names = "--admin", paramLabel = "[HOST:]PORT",
            description = "Serve the admin API (/api/config, /api/health) here; HOST defaults to 127.0.0.1.")
    String admin;

    String adminHost() {
        int colon = admin.lastIndexOf(':');
        return colon <= 0 ? "127.0.0.1" : admin.substring(0, colon);
    }

    int adminPort() {
        String port = admin.substring(admin.lastIndexOf(':') + 1);
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException("--admin " + admin
                    + ": the port must be a number from 0 to 65535, as in 127.0.0.1:9000");
        }
        return Integer.parseInt(port);
    }

    /** The settings of the data plane; every option is checked here, before anything listens. */
    ProxyRuntime.Settings settings() {
        int threads = workers == null ? Runtime.getRuntime().availableProcessors() : workers;
        if (threads < 1) {
            throw new IllegalArgumentException("--workers must be at least 1, not " + threads);
        }
        if (drainSeconds < 0) {
            throw new IllegalArgumentException("--drain-timeout must be 0 or more seconds, not " + drainSeconds);
        }
        try {
            InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--bind " + bind + ": not an address of this machine; give an IP "
                    + "address such as 127.0.0.1, or 0.0.0.0 for all of them");
        }
        if (maxConnections != null && maxConnections < 1) {
            throw new IllegalArgumentException("--max-connections must be at least 1, not " + maxConnections
                    + "; leave it out to hold as many as the open-file limit allows");
        }
        if (admin != null) {
            adminPort();
        }
        return new ProxyRuntime.Settings(bind, threads, accessLog, Duration.ofSeconds(drainSeconds),
                maxConnections == null ? 0 : maxConnections);
    }
}
