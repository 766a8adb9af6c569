package io.kontena.lb.testing;

import io.kontena.lb.vault.FileSecretStore;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/** Vaults for tests: new keys, and a vault file in the test's directory. */
public final class TestVaults {
    private TestVaults() {
    }

    /** A new vault key: base64 of 32 random bytes, as {@code head -c 32 /dev/urandom | base64} makes one. */
    public static String newKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /** A vault file in {@code dir} under a new key, read again within 100 ms of a change. */
    public static FileSecretStore inDirectory(Path dir) {
        return new FileSecretStore(dir.resolve("vault.json"), Optional.of(newKey()), Duration.ofMillis(100));
    }
}
