package io.kontena.lb.vault;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.AEADBadTagException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Secrets in one JSON file, each value sealed with AES-256-GCM (see {@link SecretCipher}).
 *
 * <p>The file is {@code ~/.kontena-lb/vault.json} unless {@code KONTENA_LB_VAULT} or an option names another.
 * The key is {@code KONTENA_LB_VAULT_KEY} (base64 of 32 bytes) when set, else the file beside the vault with
 * the extension {@code .key}, created with permissions 0600 on the first write. Several processes may use one
 * vault: writes hold a lock file and replace the vault file atomically, and watchers poll it (inotify does not
 * cross into containers that share the file by a bind mount).
 */
public final class FileSecretStore implements SecretStore {
    private static final Logger log = LoggerFactory.getLogger(FileSecretStore.class);

    public static final String PATH_VARIABLE = "KONTENA_LB_VAULT";
    public static final String KEY_VARIABLE = "KONTENA_LB_VAULT_KEY";
    public static final Duration DEFAULT_POLL = Duration.ofSeconds(1);

    private static final ConcurrentHashMap<Path, Object> IN_PROCESS_LOCKS = new ConcurrentHashMap<>();

    private final Path file;
    private final Path keyFile;
    private final Optional<VaultKey> givenKey;
    private final Duration poll;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private SecretCipher cipher;
    private String cipherSource;
    private ScheduledExecutorService watcher;
    private Map<String, String> lastSeen;

    /**
     * @param file       the vault file
     * @param base64Key  the key, or empty to use (and on first write create) the key file beside the vault
     */
    public FileSecretStore(Path file, Optional<String> base64Key, Duration poll) {
        this.file = file.toAbsolutePath();
        this.keyFile = keyFileFor(this.file);
        this.givenKey = base64Key.filter(k -> !k.isBlank()).map(k -> VaultKey.fromBase64(k, KEY_VARIABLE));
        this.poll = poll;
    }

    /** The store an operator means: the path given, else {@code KONTENA_LB_VAULT}, else the default path. */
    public static FileSecretStore open(Optional<Path> path, Map<String, String> environment) {
        Path file = path.or(() -> Optional.ofNullable(environment.get(PATH_VARIABLE))
                        .filter(p -> !p.isBlank()).map(Path::of))
                .orElseGet(FileSecretStore::defaultPath);
        return new FileSecretStore(file, Optional.ofNullable(environment.get(KEY_VARIABLE)), DEFAULT_POLL);
    }

    public static Path defaultPath() {
        return Path.of(System.getProperty("user.home"), ".kontena-lb", "vault.json");
    }

    static Path keyFileFor(Path vaultFile) {
        String name = vaultFile.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - ".json".length()) : name;
        return vaultFile.resolveSibling(base + ".key");
    }

    public Path file() {
        return file;
    }

    public Path keyFile() {
        return keyFile;
    }

    @Override
    public Optional<String> read(String name) {
        SecretNames.check(name);
        VaultFile vault = VaultFile.read(file);
        Optional<String> sealed = vault.get(name);
        if (sealed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(open(cipherFor(vault), name, sealed.get()));
    }

    @Override
    public Map<String, String> readAll() {
        VaultFile vault = VaultFile.read(file);
        if (vault.sealed().isEmpty()) {
            return Map.of();
        }
        SecretCipher c = cipherFor(vault);
        Map<String, String> all = new TreeMap<>();
        vault.sealed().forEach((name, sealed) -> all.put(name, open(c, name, sealed)));
        return all;
    }

    @Override
    public List<String> list() {
        VaultFile vault = VaultFile.read(file);
        if (!vault.sealed().isEmpty()) {
            cipherFor(vault);   // names under a wrong key would look like a working vault
        }
        return List.copyOf(new TreeMap<>(vault.sealed()).keySet());
    }

    @Override
    public void write(String name, String value, WriteMode mode) {
        SecretNames.check(name);
        if (value == null) {
            throw new VaultException("no value given for secret '" + name + "'");
        }
        locked(() -> {
            VaultFile vault = VaultFile.read(file);
            boolean exists = vault.get(name).isPresent();
            if (mode == WriteMode.CREATE && exists) {
                throw new VaultException.SecretExists(name);
            }
            if (mode == WriteMode.REPLACE && !exists) {
                throw new VaultException.NoSuchSecret(name);
            }
            SecretCipher c = cipherForWrite(vault);
            if (vault.keyCheck() == null) {
                vault = vault.withKeyCheck(c.encrypt(VaultFile.KEY_CHECK_NAME, VaultFile.KEY_CHECK_TEXT));
            }
            save(vault.with(name, c.encrypt(name, value)));
        });
        changed();
    }

    @Override
    public boolean remove(String name) {
        SecretNames.check(name);
        boolean[] removed = {false};
        locked(() -> {
            VaultFile vault = VaultFile.read(file);
            if (vault.get(name).isPresent()) {
                cipherFor(vault);   // only the key's holder may change the vault
                save(vault.without(name));
                removed[0] = true;
            }
        });
        if (removed[0]) {
            changed();
        }
        return removed[0];
    }

    @Override
    public synchronized AutoCloseable watch(Listener listener) {
        listeners.add(listener);
        if (watcher == null) {
            lastSeen = VaultFile.read(file).sealed();
            watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "vault-watch");
                t.setDaemon(true);
                return t;
            });
            watcher.scheduleWithFixedDelay(this::pollSafely, poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
        }
        return () -> listeners.remove(listener);
    }

    @Override
    public synchronized void close() {
        if (watcher != null) {
            watcher.shutdownNow();
            watcher = null;
        }
        listeners.clear();
    }

    private void pollSafely() {
        try {
            changed();
        } catch (RuntimeException e) {
            log.warn("cannot check the vault for changes: {}", e.getMessage());
        }
    }

    /** Compares sealed values (a rewrite is a change even with the same value: the nonce differs). */
    private void changed() {
        Set<String> names;
        synchronized (this) {
            if (watcher == null) {
                return;
            }
            Map<String, String> now = VaultFile.read(file).sealed();
            names = new HashSet<>();
            for (Map.Entry<String, String> entry : now.entrySet()) {
                if (!entry.getValue().equals(lastSeen.get(entry.getKey()))) {
                    names.add(entry.getKey());
                }
            }
            for (String name : lastSeen.keySet()) {
                if (!now.containsKey(name)) {
                    names.add(name);
                }
            }
            lastSeen = now;
        }
        if (!names.isEmpty()) {
            Set<String> changed = Set.copyOf(names);
            for (Listener listener : new ArrayList<>(listeners)) {
                try {
                    listener.secretsChanged(changed);
                } catch (RuntimeException e) {
                    log.warn("a vault listener failed on a change of {}", changed, e);
                }
            }
        }
    }

    private String open(SecretCipher c, String name, String sealed) {
        try {
            return c.decrypt(name, sealed);
        } catch (AEADBadTagException e) {
            throw new VaultException("secret '" + name + "' in " + file + " is damaged: it does not decrypt with "
                    + "the key that opens the rest of the vault");
        }
    }

    /** The key for a vault that has content, checked against it. */
    private synchronized SecretCipher cipherFor(VaultFile vault) {
        if (cipher == null) {
            VaultKey key = givenKey.or(() -> VaultKey.readFile(keyFile)).orElseThrow(() -> new VaultException(
                    "the vault " + file + " has secrets but there is no key: set " + KEY_VARIABLE
                            + " or put the key file back at " + keyFile));
            cipher = new SecretCipher(key.bytes());
            cipherSource = key.source();
        }
        if (vault.keyCheck() != null) {
            try {
                if (!VaultFile.KEY_CHECK_TEXT.equals(cipher.decrypt(VaultFile.KEY_CHECK_NAME, vault.keyCheck()))) {
                    throw new VaultException.WrongKey(cipherSource, file, keyFile);
                }
            } catch (AEADBadTagException e) {
                throw new VaultException.WrongKey(cipherSource, file, keyFile);
            }
        }
        return cipher;
    }

    /** As {@link #cipherFor}, but a vault written for the first time gets a key. */
    private synchronized SecretCipher cipherForWrite(VaultFile vault) {
        if (cipher == null && givenKey.isEmpty() && vault.keyCheck() == null
                && VaultKey.readFile(keyFile).isEmpty()) {
            VaultKey key = VaultKey.create(keyFile);
            cipher = new SecretCipher(key.bytes());
            cipherSource = key.source();
        }
        return cipherFor(vault);
    }

    private void save(VaultFile vault) {
        try {
            VaultFiles.replaceAtomically(file, vault.toJson());
        } catch (IOException e) {
            throw new VaultException("cannot write the vault file " + file + ": " + e.getMessage(), e);
        }
    }

    private interface Update {
        void run();
    }

    /** Read-modify-write under a lock file, so two writers never lose each other's secret. */
    private void locked(Update update) {
        // a file lock excludes other processes; threads of this one wait here, as a second lock() would throw
        synchronized (IN_PROCESS_LOCKS.computeIfAbsent(file, f -> new Object())) {
            lockedAcrossProcesses(update);
        }
    }

    private void lockedAcrossProcesses(Update update) {
        Path lockFile = file.resolveSibling(file.getFileName() + ".lock");
        try {
            Path dir = file.getParent();
            if (!Files.isDirectory(dir)) {
                VaultFiles.createOwnerOnlyDirectories(dir);
            }
            if (!Files.exists(lockFile)) {
                try {
                    VaultFiles.createOwnerOnlyFile(lockFile);
                } catch (FileAlreadyExistsException raced) {
                    // another writer made it first: the same file serves
                }
            }
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                update.run();
            }
        } catch (IOException e) {
            throw new VaultException("cannot lock the vault file " + file + ": " + e.getMessage(), e);
        }
    }
}
