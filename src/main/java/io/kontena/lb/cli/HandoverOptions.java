package io.kontena.lb.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Hand-over of the listening sockets from a running process to a new one (upgrades, JVM settings). */
final class HandoverOptions {
    @Option(names = "--handover-socket", paramLabel = "PATH",
            description = {"Serve a Unix socket at PATH through which a new process started with --take-over PATH",
                    "receives the listening sockets, so a restart refuses no connection (Linux only)."})
    Path socket;

    @Option(names = "--take-over", paramLabel = "PATH",
            description = {"Take the listening sockets over from the load balancer serving the hand-over socket",
                    "PATH; once this process serves, that one stops accepting, drains and exits."})
    Path from;
}
