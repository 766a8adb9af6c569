package io.kontena.lb.vault;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Named secrets, encrypted where they are kept. A local file by default ({@link FileSecretStore}); a store shared by
 * a fleet (etcd) implements the same.
 *
 * <p>Methods throw {@link VaultException} with a message for the operator; no message ever holds a secret value.
 */
public interface SecretStore extends AutoCloseable {

    /** How {@link #write} treats a name that exists or not, as Kontena's {@code vault write} and {@code update}. */
    enum WriteMode {
        /** a new secret; fails when the name exists */
        CREATE,
        /** a new value for an existing secret; fails when there is none */
        REPLACE,
        /** either */
        UPSERT
    }

    /** Called with the names that were added, changed or removed, by this process or another. */
    @FunctionalInterface
    interface Listener {
        void secretsChanged(Set<String> names);
    }

    Optional<String> read(String name);

    /** Every secret, decrypted: what a configuration source resolves {@code secrets:} mappings against. */
    Map<String, String> readAll();

    /** The names, sorted. */
    List<String> list();

    void write(String name, String value, WriteMode mode);

    /** @return false when there was no such secret */
    boolean remove(String name);

    /**
     * Tells the listener about changes from now on, including those made by other processes (an operator's
     * {@code vault write} while the load balancer runs). Closing the returned handle stops it.
     */
    AutoCloseable watch(Listener listener);

    @Override
    void close();
}
