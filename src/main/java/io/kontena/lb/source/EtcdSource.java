package io.kontena.lb.source;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.etcd.EtcdCalls;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.EtcdLayout;
import io.kontena.lb.kontena.PortMapping;
import io.kontena.lb.kontena.SecretRef;
import io.kontena.lb.vault.EtcdSecretStore;
import io.kontena.lb.vault.SecretStore;
import io.kontena.lb.vault.VaultException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd as a configuration source: the load balancer's subtree ({@link EtcdLayout}) is read whole at one revision,
 * then watched from the next. A change is followed by a fresh read of the whole subtree, once writes have paused for
 * {@value #QUIET_MILLIS} ms (a writer that puts a service's keys one by one is read once, whole) or at the latest
 * {@value #MAX_DELAY_MILLIS} ms after the first. While etcd cannot be reached the configuration last read keeps
 * serving: a read that fails is tried again every {@value #RETRY_MILLIS} ms, and a watch that fails (etcd away, or
 * the history it would resume from compacted) is replaced, once the subtree could be read again, by one from there.
 *
 * <p>The secrets that the subtree maps into the load balancer's variables and its services' ({@link EtcdLayout#secrets})
 * are read from the vault in etcd ({@link EtcdSecretStore}), which is then watched too: a certificate written there is
 * served by every load balancer of the fleet within moments. A mapped secret that is missing is a problem of its
 * service: a service is then left out (its last good version keeps serving), the load balancer's certificates of that
 * variable keep serving. A vault that cannot be read (no key, a wrong one, a damaged
 * secret) rejects the change, the configuration in place keeps serving, and it is read again on the next change.
 */
public final class EtcdSource implements ConfigSource {
    private static final Logger log = LoggerFactory.getLogger(EtcdSource.class);
    static final long QUIET_MILLIS = 50;
    static final long MAX_DELAY_MILLIS = 1000;
    static final long RETRY_MILLIS = 1000;

    private final List<String> endpoints;
    private final String lb;
    private final ByteSequence prefix;
    private final Map<String, String> environment;
    private final List<PortMapping> ports;
    private final ConfigWatcher watcher;
    private final Optional<String> vaultKey;
    private final long quietMillis;
    private final Client client;
    /** Every read, watch event and retry runs here, one at a time; the fields below are its own. */
    private final ScheduledExecutorService executor;
    private Watch.Watcher watch;
    /** Opened when the subtree first maps a secret. */
    private SecretStore vault;
    /** Set on the executor by {@link #start}: from then on, changes are followed. */
    private boolean started;
    /** Counts the watches made, so that the callbacks of one that was replaced are told apart and ignored. */
    private long watchNumber;
    /** The revision of the last read; a new watch starts after it. */
    private long revision;
    private long firstChangeNanos;
    private long lastChangeNanos;
    private boolean readPending;
    private boolean retryPending;
    private volatile boolean closed;

    /**
     * @param endpoints   etcd's client URLs, {@code http://host:port}
     * @param lb          the load balancer's name in the key layout: "name" or "stack/name"
     * @param environment the load balancer's own settings (certificates, its KONTENA_LB_* variables)
     * @param ports       where its container ports are published
     * @param vaultKey    the key of the vault in etcd, KONTENA_LB_VAULT_KEY
     * @param watcher     takes the snapshots after {@link #start}; null for a source that is only {@link #load}ed
     */
    public EtcdSource(List<String> endpoints, String lb, Map<String, String> environment, List<PortMapping> ports,
                      Optional<String> vaultKey, ConfigWatcher watcher) {
        this(endpoints, lb, environment, ports, vaultKey, watcher, QUIET_MILLIS);
    }

    EtcdSource(List<String> endpoints, String lb, Map<String, String> environment, List<PortMapping> ports,
               Optional<String> vaultKey, ConfigWatcher watcher, long quietMillis) {
        this.endpoints = List.copyOf(endpoints);
        this.lb = lb;
        this.prefix = EtcdCalls.bytes(EtcdLayout.prefix(lb));
        this.environment = Map.copyOf(environment);
        this.ports = List.copyOf(ports);
        this.watcher = watcher;
        this.vaultKey = vaultKey;
        this.quietMillis = quietMillis;
        this.client = EtcdCalls.client(endpoints);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "etcd-source");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * {@inheritDoc} An empty subtree is said so, with the load balancers etcd has, so that a name given wrong is told
     * from one that no service links to yet: a source that follows changes warns and serves nothing until services
     * come; one that is only read once (validate) throws.
     */
    @Override
    public LbConfig load() {
        Map<String, String> keys = read();
        if (keys.isEmpty()) {
            if (watcher == null) {
                throw new ConfigException(nothingUnder());
            }
            log.warn("{}", nothingUnder());
        }
        return translate(keys);
    }

    /** The subtree's configuration, with the secrets it maps read from the vault. */
    private LbConfig translate(Map<String, String> keys) {
        EtcdLayout.Secrets secrets = EtcdLayout.secrets(lb, keys);
        if (secrets.isEmpty()) {
            return EtcdLayout.translate(lb, keys, environment, ports);
        }
        Map<String, String> env = new HashMap<>(environment);
        Map<String, String> resolved = keys;
        List<Problem> missing = new ArrayList<>();
        // what came from the vault ("subject\nkey", as problems name it) -> the key that mapped it
        Map<String, String> sealed = new HashMap<>();
        secrets.lb().forEach(r -> sealed.put(lb + "\n" + r.name(), r.name()));
        try {
            Map<String, String> vault = vault().readAll();
            env.putAll(VaultSecrets.environment(lb, secrets.lb(), vault, missing));
            for (Map.Entry<String, List<SecretRef>> service : secrets.services().entrySet()) {
                String name = EtcdLayout.serviceOf(service.getKey());
                for (SecretRef r : service.getValue()) {
                    String mapping = EtcdLayout.prefix(lb) + service.getKey() + EtcdLayout.SECRETS + r.name();
                    sealed.put(name + "\n" + r.name(), mapping);
                    sealed.put(name + "\n" + EtcdLayout.keyOf(lb, service.getKey(), r.name()), mapping);
                }
                int before = missing.size();
                Map<String, String> variables = VaultSecrets.environment(name, service.getValue(), vault, missing);
                resolved = missing.size() == before
                        ? EtcdLayout.withSecrets(lb, resolved, service.getKey(), variables)
                        : EtcdLayout.withoutService(lb, resolved, service.getKey());
            }
        } catch (VaultException e) {
            String message = "cannot read the secrets of " + lb + " from the vault in etcd: " + e.getMessage();
            // etcd that did not answer is tried again as any read is; a vault that cannot be opened waits for a change
            throw e.getCause() instanceof ConfigException unreachable ? new ConfigException(message, unreachable)
                    : new ConfigException(message, e);
        }
        return VaultSecrets.finish(EtcdLayout.translate(lb, resolved, env, ports), missing, sealed);
    }

    /**
     * The vault in etcd, opened when first needed; once the source is started, it is watched: a change of a secret
     * reads the subtree again.
     */
    private SecretStore vault() {
        if (vault == null) {
            vault = new EtcdSecretStore(client, false, endpoints, vaultKey);
            if (started) {
                watchVault();
            }
        }
        return vault;
    }

    private void watchVault() {
        vault.watch(names -> submit(() -> changed(watchNumber)));
    }

    private String nothingUnder() {
        Set<String> names = new TreeSet<>();
        GetResponse all = EtcdCalls.await(client.getKVClient().get(EtcdCalls.bytes(EtcdLayout.ROOT),
                GetOption.builder().isPrefix(true).withKeysOnly(true).build()), "read " + EtcdLayout.ROOT, endpoints);
        all.getKvs().forEach(kv -> EtcdLayout.lbNameOf(kv.getKey().toString(StandardCharsets.UTF_8))
                .ifPresent(names::add));
        return "etcd has no keys under " + EtcdLayout.prefix(lb) + ": nothing is served until a service is balanced "
                + "by '" + lb + "'; load balancers in etcd: " + (names.isEmpty() ? "none" : String.join(", ", names));
    }

    @Override
    public void start() {
        submit(() -> {
            started = true;
            watchAfterRevision();
            if (vault != null) {
                watchVault();
                changed(watchNumber); // a secret written since the first read
            }
        });
    }

    @Override
    public void reload() {
        submit(this::readOrRetry);
    }

    @Override
    public String description() {
        return "etcd " + String.join(",", endpoints) + " " + EtcdLayout.prefix(lb);
    }

    /** Runs a task on the executor unless the source is closed. */
    private void submit(Runnable task) {
        if (closed) {
            return;
        }
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            // closed meanwhile: nothing is to be done any more
        }
    }

    /** Every key of the subtree with its value, at one revision, which is kept as {@link #revision}. */
    private Map<String, String> read() {
        GetResponse response = EtcdCalls.read(client, EtcdLayout.prefix(lb), endpoints);
        revision = response.getHeader().getRevision();
        return EtcdCalls.keys(response);
    }

    private void watchAfterRevision() {
        if (closed) {
            return;
        }
        long number = ++watchNumber;
        WatchOption option = WatchOption.builder().isPrefix(true).withRevision(revision + 1).build();
        watch = client.getWatchClient().watch(prefix, option, Watch.listener(
                response -> submit(() -> changed(number)),
                error -> submit(() -> watchFailed(number, error))));
    }

    /** A watch event: read once writes pause (or have gone on too long), not once per key. */
    private void changed(long number) {
        if (number != watchNumber) {
            return;
        }
        long now = System.nanoTime();
        if (!readPending) {
            readPending = true;
            firstChangeNanos = now;
            executor.schedule(this::readWhenQuiet, quietMillis, TimeUnit.MILLISECONDS);
        }
        lastChangeNanos = now;
    }

    private void readWhenQuiet() {
        long now = System.nanoTime();
        long quietFor = TimeUnit.NANOSECONDS.toMillis(now - lastChangeNanos);
        long waited = TimeUnit.NANOSECONDS.toMillis(now - firstChangeNanos);
        if (quietFor < quietMillis && waited < MAX_DELAY_MILLIS) {
            executor.schedule(this::readWhenQuiet, Math.min(quietMillis - quietFor, MAX_DELAY_MILLIS - waited),
                    TimeUnit.MILLISECONDS);
            return;
        }
        readPending = false;
        readOrRetry();
    }

    /**
     * The watch failed. jetcd reports every error of a watch and then tries to resume it from where it was; this
     * source replaces it instead, after a read of the whole subtree, which also covers a history etcd compacted.
     */
    private void watchFailed(long number, Throwable error) {
        if (number != watchNumber || watch == null) {
            return; // a watch replaced already, or this one's failure handled already
        }
        log.warn("the watch of {} failed ({}); reading it again", description(), error.getMessage());
        watch.close();
        watch = null;
        readOrRetry();
    }

    /**
     * Reads the subtree and offers it, then watches again if the watch had failed; when etcd cannot be read, the
     * configuration in place keeps serving and the read is tried again in {@value #RETRY_MILLIS} ms.
     */
    private void readOrRetry() {
        if (closed || retryPending) {
            return; // a retry is scheduled: it reads then
        }
        try {
            watcher.offer(translate(read()));
        } catch (RuntimeException e) {
            if (closed) {
                return;
            }
            if (e.getCause() instanceof VaultException) {
                // read again on the next change of the vault or the subtree, not every second: a wrong key stays
                // wrong until someone acts
                watcher.rejected(e.getMessage());
                if (watch == null) {
                    watchAfterRevision();
                }
                return;
            }
            if (e instanceof ConfigException) {
                watcher.rejected(e.getMessage());
            } else {
                log.error("reading {} failed", description(), e);
            }
            retryPending = true;
            executor.schedule(() -> {
                retryPending = false;
                readOrRetry();
            }, RETRY_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        if (watch == null) {
            watchAfterRevision();
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
        if (vault != null) {
            vault.close();
        }
        client.close();
    }
}
