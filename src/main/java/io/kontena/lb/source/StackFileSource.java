package io.kontena.lb.source;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Supplier;
import io.kontena.lb.kontena.Stack;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore;
import io.kontena.lb.vault.VaultException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stack file as a configuration source: read once at start, then again whenever it is saved (watched
 * through its directory, so editors that save by writing a new file and renaming it are seen too) or
 * {@link #reload()} is called (SIGHUP). Saves are read after a short quiet period, so a file written in
 * several steps is read once, whole; a read that still fails to parse is rejected and the next save retried.
 */
public final class StackFileSource implements ConfigSource {
    private static final Logger log = LoggerFactory.getLogger(StackFileSource.class);
    /** Editors write in bursts; reading after this much quiet sees the finished file. */
    private static final long QUIET_MILLIS = 50;

    private final Path file;
    private final Optional<String> lbName;
    private final ConfigWatcher watcher;
    private final WatchService watchService;
    private final Thread thread;
    private final Supplier<SecretStore> vaultOpener;
    private SecretStore vault;
    private AutoCloseable vaultWatch;
    private byte[] lastRead;

    public StackFileSource(Path file, Optional<String> lbName, ConfigWatcher watcher) throws IOException {
        this(file, lbName, watcher, () -> FileSecretStore.open(Optional.empty(), System.getenv()));
    }

    /** @param vault opens the vault that {@code secrets:} entries are read from, when the file has any */
    public StackFileSource(Path file, Optional<String> lbName, ConfigWatcher watcher, Supplier<SecretStore> vault)
            throws IOException {
        this.vaultOpener = vault;
        this.file = file.toAbsolutePath();
        this.lbName = lbName;
        this.watcher = watcher;
        this.watchService = this.file.getFileSystem().newWatchService();
        this.file.getParent().register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        this.thread = new Thread(this::watch, "stack-file-watch");
        this.thread.setDaemon(true);
    }

    @Override
    public LbConfig load() {
        byte[] bytes = StackFile.bytes(file);
        LbConfig config = translate(bytes);
        lastRead = bytes;
        return config;
    }

    @Override
    public void start() {
        thread.start();
    }

    @Override
    public synchronized void reload() {
        lastRead = null;
        readIfChanged();
    }

    @Override
    public String description() {
        return file.toString();
    }

    private synchronized void readIfChanged() {
        try {
            byte[] bytes = StackFile.bytes(file);
            if (Arrays.equals(bytes, lastRead)) {
                return;
            }
            LbConfig config = translate(bytes);
            lastRead = bytes;
            watcher.offer(config);
        } catch (ConfigException e) {
            watcher.rejected(e.getMessage());
        }
    }

    private LbConfig translate(byte[] bytes) {
        Stack stack = StackFile.parse(new String(bytes, StandardCharsets.UTF_8), file.toString());
        if (!VaultSecrets.needed(stack)) {
            return Translator.translate(stack, lbName);
        }
        VaultSecrets.Resolved resolved;
        try {
            resolved = VaultSecrets.resolve(stack, vault());
        } catch (VaultException e) {
            // as a file that does not parse: the last good configuration keeps serving, the operator is told
            throw new ConfigException("cannot read the secrets of " + file + " from the vault: " + e.getMessage(), e);
        }
        return resolved.finish(Translator.translate(resolved.stack(), lbName));
    }

    /** Opened when the file first maps a secret; a change of a secret then reads the file again. */
    private SecretStore vault() {
        if (vault == null) {
            vault = vaultOpener.get();
            try {
                vaultWatch = vault.watch(names -> reload());
            } catch (Exception e) {
                throw new ConfigException("cannot watch the vault: " + e.getMessage());
            }
        }
        return vault;
    }

    private void watch() {
        try {
            while (true) {
                awaitQuietAfterChange();
                if (Files.exists(file)) {
                    readIfChanged();
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        } catch (RuntimeException e) {
            log.error("watching {} stopped", file, e);
        }
    }

    /**
     * Returns once the file has changed and then been left alone for {@value #QUIET_MILLIS} ms, so that a save in
     * several steps is read whole. Only the file's own events count: the watch is on its directory, where other
     * files may change all the time (a log written beside it), and those must neither hold a save back nor pass
     * for one, nor wake this thread on each of their writes. An overflow (events lost) counts as a change, which may
     * have been the file's.
     */
    private void awaitQuietAfterChange() throws InterruptedException {
        long lastChange = 0;
        boolean changed = false;
        while (true) {
            WatchKey key;
            if (!changed) {
                key = watchService.take();
            } else {
                long wait = lastChange + TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS) - System.nanoTime();
                key = wait > 0 ? watchService.poll(wait, TimeUnit.NANOSECONDS) : null;
                if (key == null) {
                    return;
                }
            }
            boolean ours = key.pollEvents().stream().anyMatch(e -> e.kind() == StandardWatchEventKinds.OVERFLOW
                    || file.getFileName().equals(e.context()));
            key.reset();
            if (ours) {
                changed = true;
                lastChange = System.nanoTime();
            } else if (!changed) {
                // Only other files: take their next events together, a moment later, rather than one wake-up each
                // (a log beside the file may be written on every request).
                Thread.sleep(QUIET_MILLIS);
            }
        }
    }

    @Override
    public void close() throws Exception {
        watchService.close();
        thread.interrupt();
        if (vaultWatch != null) {
            vaultWatch.close();
        }
    }
}
