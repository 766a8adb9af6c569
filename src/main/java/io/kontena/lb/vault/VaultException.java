package io.kontena.lb.vault;

/** A vault operation that failed, said for the operator. Messages name secrets, never their values. */
public class VaultException extends RuntimeException {
    public VaultException(String message) {
        super(message);
    }

    public VaultException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A wrong key must never look like data: this is what the operator sees instead of garbage. */
    public static final class WrongKey extends VaultException {
        public WrongKey(String keySource, java.nio.file.Path vault, java.nio.file.Path keyFile) {
            super("vault key does not match the one the vault was written with (key from " + keySource + "; vault "
                    + vault + "): give the key it was written with, in " + FileSecretStore.KEY_VARIABLE
                    + " or its key file " + keyFile);
        }
    }

    public static final class NoSuchSecret extends VaultException {
        public NoSuchSecret(String name) {
            super("secret '" + name + "' does not exist");
        }
    }

    public static final class SecretExists extends VaultException {
        public SecretExists(String name) {
            super("secret '" + name + "' already exists; use 'vault update " + name + "' to change its value");
        }
    }
}
