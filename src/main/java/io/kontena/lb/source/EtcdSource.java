package io.kontena.lb.source;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.EtcdLayout;
import io.kontena.lb.kontena.PortMapping;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd as a configuration source: the load balancer's subtree ({@link EtcdLayout}) is read whole at one revision,
 * then watched from the next. A change is followed by a fresh read of the whole subtree, once writes have paused for
 * {@value #QUIET_MILLIS} ms (a writer that puts a service's keys one by one is read once, whole) or at the latest
 * {@value #MAX_DELAY_MILLIS} ms after the first. While etcd cannot be reached the configuration last read keeps
 * serving; the watch resumes where it stopped, or, when etcd no longer has that history, the subtree is read again.
 */
public final class EtcdSource implements ConfigSource {
    private static final Logger log = LoggerFactory.getLogger(EtcdSource.class);
    static final long QUIET_MILLIS = 50;
    static final long MAX_DELAY_MILLIS = 1000;
    private static final long RETRY_MILLIS = 1000;

    private final List<String> endpoints;
    private final String lb;
    private final ByteSequence prefix;
    private final Map<String, String> environment;
    private final List<PortMapping> ports;
    private final ConfigWatcher watcher;
    private final Client client;
    /** Every read, watch event and retry runs here, one at a time. */
    private final ScheduledExecutorService executor;
    private Watch.Watcher watch;
    /** The revision of the last read; the watch starts after it. */
    private long revision;
    private long firstChangeNanos;
    private long lastChangeNanos;
    private boolean readPending;
    private volatile boolean closed;

    /**
     * @param endpoints   etcd's client URLs, {@code http://host:port}
     * @param lb          the load balancer's name in the key layout: "name" or "stack/name"
     * @param environment the load balancer's own settings (certificates, its KONTENA_LB_* variables)
     * @param ports       where its container ports are published
     * @param watcher     takes the snapshots after {@link #start}; null for a source that is only {@link #load}ed
     */
    public EtcdSource(List<String> endpoints, String lb, Map<String, String> environment, List<PortMapping> ports,
                      ConfigWatcher watcher) {
        this.endpoints = List.copyOf(endpoints);
        this.lb = lb;
        this.prefix = EtcdCalls.bytes(EtcdLayout.prefix(lb));
        this.environment = Map.copyOf(environment);
        this.ports = List.copyOf(ports);
        this.watcher = watcher;
        this.client = Client.builder().endpoints(endpoints.toArray(String[]::new))
                .connectTimeout(EtcdCalls.TIMEOUT).build();
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "etcd-source");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public LbConfig load() {
        Map<String, String> keys = read();
        if (keys.isEmpty()) {
            log.warn("etcd has no keys under {} yet: nothing is served until a service is balanced by '{}'",
                    EtcdLayout.prefix(lb), lb);
        }
        return EtcdLayout.translate(lb, keys, environment, ports);
    }

    @Override
    public void start() {
        executor.execute(this::watchAfterRevision);
    }

    @Override
    public void reload() {
        executor.execute(this::readAndOffer);
    }

    @Override
    public String description() {
        return "etcd " + String.join(",", endpoints) + " " + EtcdLayout.prefix(lb);
    }

    /** Every key of the subtree with its value, at one revision, which is kept as {@link #revision}. */
    private Map<String, String> read() {
        GetResponse response = EtcdCalls.await(client.getKVClient().get(prefix,
                GetOption.builder().isPrefix(true).build()), "read " + EtcdLayout.prefix(lb), endpoints);
        Map<String, String> keys = new HashMap<>();
        for (KeyValue kv : response.getKvs()) {
            keys.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
        }
        revision = response.getHeader().getRevision();
        return keys;
    }

    private void watchAfterRevision() {
        if (closed) {
            return;
        }
        WatchOption option = WatchOption.builder().isPrefix(true).withRevision(revision + 1).build();
        watch = client.getWatchClient().watch(prefix, option, Watch.listener(
                response -> executor.execute(this::changed),
                error -> executor.execute(() -> watchFailed(error))));
    }

    /** A watch event: read once writes pause (or have gone on too long), not once per key. */
    private void changed() {
        long now = System.nanoTime();
        if (!readPending) {
            readPending = true;
            firstChangeNanos = now;
            executor.schedule(this::readWhenQuiet, QUIET_MILLIS, TimeUnit.MILLISECONDS);
        }
        lastChangeNanos = now;
    }

    private void readWhenQuiet() {
        long now = System.nanoTime();
        long quietFor = TimeUnit.NANOSECONDS.toMillis(now - lastChangeNanos);
        long waited = TimeUnit.NANOSECONDS.toMillis(now - firstChangeNanos);
        if (quietFor < QUIET_MILLIS && waited < MAX_DELAY_MILLIS) {
            executor.schedule(this::readWhenQuiet, Math.min(QUIET_MILLIS - quietFor, MAX_DELAY_MILLIS - waited),
                    TimeUnit.MILLISECONDS);
            return;
        }
        readPending = false;
        readAndOffer();
    }

    /** Reads the subtree and offers it; when etcd cannot be read, the configuration in place keeps serving. */
    private boolean readAndOffer() {
        if (closed) {
            return false;
        }
        try {
            watcher.offer(EtcdLayout.translate(lb, read(), environment, ports));
            return true;
        } catch (ConfigException e) {
            if (!closed) {
                watcher.rejected(e.getMessage());
            }
            return false;
        }
    }

    /**
     * The watch ended with an error it does not recover from itself (etcd compacted the history it was to resume
     * from, or the client gave up reconnecting): read the subtree again and watch from there, retrying until etcd
     * answers.
     */
    private void watchFailed(Throwable error) {
        if (closed) {
            return;
        }
        log.warn("the watch of {} failed ({}); reading it again", description(), error.getMessage());
        if (watch != null) {
            watch.close();
            watch = null;
        }
        resync();
    }

    private void resync() {
        if (readAndOffer()) {
            watchAfterRevision();
        } else if (!closed) {
            executor.schedule(this::resync, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        executor.shutdownNow(); // a read waiting for etcd is interrupted: a stopping process does not wait for it
        executor.awaitTermination(EtcdCalls.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (watch != null) {
            watch.close();
        }
        client.close();
    }
}
