package io.kontena.lb.source;

import io.kontena.lb.config.LbConfig;

/**
 * Where a load balancer's configuration comes from: a stack file or etcd. A source hands whole snapshots to its
 * {@link ConfigWatcher}, never differences; the watcher decides what changed.
 */
public interface ConfigSource extends AutoCloseable {
    /**
     * Reads and translates the configuration as it is now.
     *
     * @throws io.kontena.lb.kontena.ConfigException when there is none to serve (unreadable, unreachable, no such
     *                                               load balancer); the message says what and where
     */
    LbConfig load();

    /** Follows the changes made after {@link #load}, offering each new snapshot to the watcher. */
    void start();

    /** Reads the configuration again, whether or not it changed (SIGHUP). */
    void reload();

    /** What is read, for the log: a file's path, or etcd's endpoints and key prefix. */
    String description();
}
