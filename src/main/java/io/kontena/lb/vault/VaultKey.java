package io.kontena.lb.vault;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/** The vault's AES key: from the environment when given there, else from a file only its owner can read. */
final class VaultKey {
    private static final Logger log = LoggerFactory.getLogger(VaultKey.class);
    static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private final byte[] bytes;
    private final String source;

    private VaultKey(byte[] bytes, String source) {
        this.bytes = bytes;
        this.source = source;
    }

    byte[] bytes() {
        return bytes.clone();
    }

    /** Where the key came from, for messages: a variable or a path, never the key. */
    String source() {
        return source;
    }

    static VaultKey fromBase64(String base64, String source) {
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new VaultException("the vault key in " + source + " is not base64");
        }
        if (decoded.length != SecretCipher.KEY_BYTES) {
            throw new VaultException("the vault key in " + source + " is " + decoded.length + " bytes; it must be "
                    + SecretCipher.KEY_BYTES + " (e.g. the output of: head -c 32 /dev/urandom | base64)");
        }
        return new VaultKey(decoded, source);
    }

    static Optional<VaultKey> readFile(Path file) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            warnIfOthersCanRead(file);
            return Optional.of(fromBase64(Files.readString(file, StandardCharsets.US_ASCII), file.toString()));
        } catch (IOException e) {
            throw new VaultException("cannot read the vault key file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A new random key in a new file, readable by its owner only from the moment it exists. Another process may
     * create it at the same time; then its key is the one.
     */
    static VaultKey create(Path file) {
        byte[] key = new byte[SecretCipher.KEY_BYTES];
        new SecureRandom().nextBytes(key);
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null && !Files.isDirectory(dir)) {
                VaultFiles.createOwnerOnlyDirectories(dir);
            }
            Path created = VaultFiles.createOwnerOnlyFile(file);
            Files.writeString(created, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
            log.info("created a new vault key in {}; keep a copy: without it the vault cannot be read", file);
            return new VaultKey(key, file.toString());
        } catch (FileAlreadyExistsException e) {
            return readFile(file).orElseThrow(() -> new VaultException("the vault key file " + file + " vanished"));
        } catch (IOException e) {
            throw new VaultException("cannot create the vault key file " + file + ": " + e.getMessage(), e);
        }
    }

    private static void warnIfOthersCanRead(Path file) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view != null) {
            Set<PosixFilePermission> permissions = view.readAttributes().permissions();
            if (!OWNER_ONLY.containsAll(permissions)) {
                log.warn("the vault key file {} has permissions {}; anyone who can read it can read the vault "
                        + "(chmod 600 it)", file, PosixFilePermissions.toString(permissions));
            }
        }
    }
}
