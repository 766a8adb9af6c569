package io.kontena.lb.vault;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.kontena.lb.etcd.EtcdCalls;
import io.kontena.lb.kontena.ConfigException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.crypto.AEADBadTagException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Secrets in etcd, for a fleet of load balancers: one key per secret under {@value #SECRETS}, each value sealed with
 * AES-256-GCM as in the vault file ({@link SecretCipher}), so etcd and whoever reads it only ever see ciphertext.
 * The key is {@code KONTENA_LB_VAULT_KEY}, the same on every load balancer of the fleet and wherever {@code vault}
 * commands run; {@value #KEY_CHECK} holds a value sealed with it by the first write, so that a wrong key is an error,
 * never garbage. Creating and replacing a secret are etcd transactions: two writers never overwrite each other's new
 * secret.
 */
public final class EtcdSecretStore implements SecretStore {
    private static final Logger log = LoggerFactory.getLogger(EtcdSecretStore.class);
    public static final String ROOT = "/kontena/vault/";
    static final String SECRETS = ROOT + "secrets/";
    static final String KEY_CHECK = ROOT + "key-check";
    /** How long a failed watch waits before it is made again. */
    static final long REWATCH_MILLIS = 1000;

    private final Client client;
    private final boolean ownsClient;
    private final List<String> endpoints;
    private final SecretCipher cipher;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService watchExecutor;
    private Watch.Watcher watch;
    /** Counts the watches made, so that the events of one that was replaced are told apart and ignored. */
    private long watchNumber;
    private boolean closed;

    /**
     * @param client    etcd; closed with this store when {@code ownsClient}
     * @param endpoints where etcd is, for messages
     * @param base64Key the vault key, {@code KONTENA_LB_VAULT_KEY}
     */
    public EtcdSecretStore(Client client, boolean ownsClient, List<String> endpoints, Optional<String> base64Key) {
        String key = base64Key.filter(k -> !k.isBlank()).orElseThrow(() -> new VaultException("the vault in etcd ("
                + SECRETS + ") needs its key in " + FileSecretStore.KEY_VARIABLE + ", the same for every load "
                + "balancer of the fleet and every vault command (make one with: head -c 32 /dev/urandom | base64)"));
        this.cipher = new SecretCipher(VaultKey.fromBase64(key, FileSecretStore.KEY_VARIABLE).bytes());
        this.client = client;
        this.ownsClient = ownsClient;
        this.endpoints = List.copyOf(endpoints);
    }

    /** The vault in etcd at {@code endpoints}, with the key that the environment gives. */
    public static EtcdSecretStore open(List<String> endpoints, Map<String, String> environment) {
        Optional<String> key = Optional.ofNullable(environment.get(FileSecretStore.KEY_VARIABLE));
        Client client = EtcdCalls.client(endpoints);
        try {
            return new EtcdSecretStore(client, true, endpoints, key);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    @Override
    public Optional<String> read(String name) {
        SecretNames.check(name);
        String sealed = sealed().get(name);
        return sealed == null ? Optional.empty() : Optional.of(open(name, sealed));
    }

    /** Reads the vault whole, at one revision, with its key check. */
    @Override
    public Map<String, String> readAll() {
        Map<String, String> all = new TreeMap<>();
        sealed().forEach((name, sealed) -> all.put(name, open(name, sealed)));
        return all;
    }

    @Override
    public List<String> list() {
        return List.copyOf(sealed().keySet());
    }

    @Override
    public void write(String name, String value, WriteMode mode) {
        SecretNames.check(name);
        if (value == null) {
            throw new VaultException("no value given for secret '" + name + "'");
        }
        ensureKeyCheck();
        ByteSequence key = EtcdCalls.bytes(SECRETS + name);
        Op put = Op.put(key, EtcdCalls.bytes(cipher.encrypt(name, value)), PutOption.DEFAULT);
        if (mode == WriteMode.UPSERT) {
            call(client.getKVClient().txn().Then(put).commit(), "write secret '" + name + "'");
            return;
        }
        // CREATE: only when it has no version yet; REPLACE: only when it has one
        Cmp.Op absent = mode == WriteMode.CREATE ? Cmp.Op.EQUAL : Cmp.Op.GREATER;
        TxnResponse response = call(client.getKVClient().txn().If(new Cmp(key, absent, CmpTarget.version(0)))
                .Then(put).commit(), "write secret '" + name + "'");
        if (!response.isSucceeded()) {
            throw mode == WriteMode.CREATE ? new VaultException.SecretExists(name)
                    : new VaultException.NoSuchSecret(name);
        }
    }

    @Override
    public boolean remove(String name) {
        SecretNames.check(name);
        sealed(); // only the key's holder may change the vault
        return call(client.getKVClient().delete(EtcdCalls.bytes(SECRETS + name), DeleteOption.DEFAULT),
                "remove secret '" + name + "'").getDeleted() > 0;
    }

    /**
     * {@inheritDoc} A watch that etcd ends (a restart, a compacted history) is made again after
     * {@value #REWATCH_MILLIS} ms, and the listeners are then told with no names: anything may have changed meanwhile.
     */
    @Override
    public synchronized AutoCloseable watch(Listener listener) {
        listeners.add(listener);
        if (watchExecutor == null) {
            watchExecutor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "vault-watch");
                t.setDaemon(true);
                return t;
            });
            startWatch(false);
        }
        return () -> listeners.remove(listener);
    }

    @Override
    public void close() {
        Watch.Watcher last;
        synchronized (this) {
            closed = true;
            listeners.clear();
            last = watch;
            watch = null;
            if (watchExecutor != null) {
                watchExecutor.shutdownNow();
            }
        }
        if (last != null) {
            last.close();
        }
        if (ownsClient) {
            client.close();
        }
    }

    /** Watches from now; after a failed watch, tells the listeners that what changed is not known. */
    private synchronized void startWatch(boolean afterFailure) {
        if (closed) {
            return;
        }
        long number = ++watchNumber;
        try {
            long revision = call(client.getKVClient().get(EtcdCalls.bytes(KEY_CHECK), GetOption.builder()
                    .withKeysOnly(true).build()), "read " + KEY_CHECK).getHeader().getRevision();
            watch = client.getWatchClient().watch(EtcdCalls.bytes(SECRETS),
                    WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                    Watch.listener(response -> {
                        Set<String> names = new HashSet<>();
                        for (WatchEvent event : response.getEvents()) {
                            names.add(event.getKeyValue().getKey().toString(StandardCharsets.UTF_8)
                                    .substring(SECRETS.length()));
                        }
                        onWatchExecutor(() -> tell(number, names));
                    }, error -> onWatchExecutor(() -> watchFailed(number, error))));
        } catch (RuntimeException e) {
            // not only a vault error: anything escaping this scheduled task (a call jetcd cancels, a watch it will
            // not open) would end the watching for good without a word, as the etcd source's reads already know
            watchFailed(number, e);
            return;
        }
        if (afterFailure) {
            onWatchExecutor(() -> tell(number, Set.of()));
        }
    }

    /**
     * Runs a watch's callback on this store's thread: jetcd calls back holding a lock of its own, which closing a
     * watch takes too, so the callback must not wait for this store's.
     */
    private void onWatchExecutor(Runnable callback) {
        try {
            watchExecutor.execute(callback);
        } catch (RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    private synchronized void watchFailed(long number, Throwable error) {
        if (number != watchNumber || closed) {
            return;
        }
        log.warn("the watch of the vault in etcd failed ({}); watching again in {} ms", error.getMessage(),
                REWATCH_MILLIS);
        if (watch != null) {
            watch.close();
            watch = null;
        }
        watchNumber++; // what the failed watch still reports is ignored
        watchExecutor.schedule(() -> startWatch(true), REWATCH_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void tell(long number, Set<String> names) {
        synchronized (this) {
            if (number != watchNumber || closed) {
                return;
            }
        }
        for (Listener listener : listeners) {
            try {
                listener.secretsChanged(Set.copyOf(names));
            } catch (RuntimeException e) {
                log.warn("a vault listener failed on a change of {}", names, e);
            }
        }
    }

    /** The sealed secrets by name, checked against the key check read with them. */
    private Map<String, String> sealed() {
        GetResponse response = call(client.getKVClient().get(EtcdCalls.bytes(ROOT),
                GetOption.builder().isPrefix(true).build()), "read " + ROOT);
        Map<String, String> sealed = new TreeMap<>();
        String check = null;
        for (KeyValue kv : response.getKvs()) {
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            String value = kv.getValue().toString(StandardCharsets.UTF_8);
            if (key.equals(KEY_CHECK)) {
                check = value;
            } else if (key.startsWith(SECRETS)) {
                sealed.put(key.substring(SECRETS.length()), value);
            }
        }
        if (check != null) {
            verify(check);
        }
        return sealed;
    }

    /** Seals the key check with this key when the vault has none yet; a vault that has one must open with it. */
    private void ensureKeyCheck() {
        ByteSequence key = EtcdCalls.bytes(KEY_CHECK);
        Op put = Op.put(key, EtcdCalls.bytes(cipher.encrypt(VaultFile.KEY_CHECK_NAME, VaultFile.KEY_CHECK_TEXT)),
                PutOption.DEFAULT);
        TxnResponse response = call(client.getKVClient().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0))).Then(put)
                .Else(Op.get(key, GetOption.DEFAULT)).commit(), "write " + KEY_CHECK);
        if (!response.isSucceeded()) {
            verify(response.getGetResponses().get(0).getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
        }
    }

    private void verify(String check) {
        try {
            if (VaultFile.KEY_CHECK_TEXT.equals(cipher.decrypt(VaultFile.KEY_CHECK_NAME, check))) {
                return;
            }
        } catch (AEADBadTagException e) {
            // said below
        }
        throw new VaultException("vault key does not match the one the vault in etcd (" + ROOT + " at "
                + String.join(",", endpoints) + ") was written with: give that key in " + FileSecretStore.KEY_VARIABLE);
    }

    private String open(String name, String sealed) {
        try {
            return cipher.decrypt(name, sealed);
        } catch (AEADBadTagException e) {
            throw new VaultException("secret '" + name + "' in etcd (" + SECRETS + name + ") is damaged: it does not "
                    + "decrypt with the key that opens the rest of the vault");
        }
    }

    /**
     * An etcd call, failing as a vault error that says what could not be done where; its cause is etcd's failure (a
     * ConfigException), so that a caller can tell an etcd that did not answer from a vault that cannot be opened.
     */
    private <T> T call(CompletableFuture<T> call, String what) {
        try {
            return EtcdCalls.await(call, what, endpoints);
        } catch (ConfigException e) {
            throw new VaultException(e.getMessage(), e);
        }
    }
}
