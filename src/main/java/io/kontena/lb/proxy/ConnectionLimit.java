package io.kontena.lb.proxy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The most client connections a process holds at once (see {@link AcceptGate}).
 *
 * @param value  the limit
 * @param source what set it, for the log
 */
record ConnectionLimit(int value, String source) {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);
    /** A client connection's own file and its upstream connection's. */
    private static final int FILES_PER_CONNECTION = 2;
    /** Files kept for all else: listeners, health checks, etcd, logs, more upstream connections for HTTP/2. */
    private static final int SPARE_FILES = 64;

    /**
     * {@code maxConnections}, or (0) what the process's open-file limit allows beside the files it has open now: two
     * per connection, and some to spare. A greater {@code maxConnections} than that is lowered to it, with a warning:
     * past it, accepts would fail rather than wait.
     */
    static ConnectionLimit of(int maxConnections) {
        ConnectionLimit asked = new ConnectionLimit(maxConnections, "--max-connections " + maxConnections);
        long files = openFileLimit();
        String[] inUse = new File("/proc/self/fd").list();
        if (files < 0 || inUse == null) {
            return maxConnections == 0 ? new ConnectionLimit(Integer.MAX_VALUE, "no open-file limit known") : asked;
        }
        long allowed = Math.min(Integer.MAX_VALUE,
                Math.max(1, (files - inUse.length - SPARE_FILES) / FILES_PER_CONNECTION));
        ConnectionLimit byFiles = new ConnectionLimit((int) allowed,
                "the open-file limit (ulimit -n) of " + files + " allows " + allowed);
        if (maxConnections == 0) {
            return byFiles;
        }
        if (maxConnections > allowed) {
            log.warn("--max-connections {} is more than {} (two files per connection); taking {}: raise the limit "
                    + "to hold more", maxConnections, byFiles.source(), allowed);
            return byFiles;
        }
        return asked;
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
}
