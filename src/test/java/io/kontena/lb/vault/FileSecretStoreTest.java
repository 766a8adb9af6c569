package io.kontena.lb.vault;

import io.kontena.lb.testing.TestVaults;
import io.kontena.lb.vault.SecretStore.WriteMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileSecretStoreTest {
    private static final String VALUE = "s3cr3t-value-that-must-never-leak";

    @TempDir
    Path dir;

    private FileSecretStore store(Path file) {
        return new FileSecretStore(file, Optional.empty(), Duration.ofMillis(20));
    }


    @Test
    void roundTrip() {
        Path file = dir.resolve("home/.kontena-lb/vault.json");
        try (FileSecretStore store = store(file)) {
            assertThat(store.list()).isEmpty();
            assertThat(store.read("missing")).isEmpty();

            store.write("www_cert", VALUE, WriteMode.CREATE);
            store.write("api-cert", "multi\nline\nvalue ✓", WriteMode.UPSERT);

            assertThat(store.read("www_cert")).contains(VALUE);
            assertThat(store.read("api-cert")).contains("multi\nline\nvalue ✓");
            assertThat(store.list()).containsExactly("api-cert", "www_cert");
            assertThat(store.readAll()).containsExactly(Map.entry("api-cert", "multi\nline\nvalue ✓"),
                    Map.entry("www_cert", VALUE));

            store.write("www_cert", "renewed", WriteMode.REPLACE);
            assertThat(store.read("www_cert")).contains("renewed");

            assertThat(store.remove("www_cert")).isTrue();
            assertThat(store.remove("www_cert")).isFalse();
            assertThat(store.list()).containsExactly("api-cert");
        }
        // another process, same files
        try (FileSecretStore again = store(file)) {
            assertThat(again.read("api-cert")).contains("multi\nline\nvalue ✓");
        }
    }

    @Test
    void writeCreatesAndUpdateChangesAsKontenaDid() {
        try (FileSecretStore store = store(dir.resolve("vault.json"))) {
            store.write("a", "1", WriteMode.CREATE);
            assertThatThrownBy(() -> store.write("a", "2", WriteMode.CREATE))
                    .isInstanceOf(VaultException.SecretExists.class)
                    .hasMessage("secret 'a' already exists; use 'vault update a' to change its value");
            assertThatThrownBy(() -> store.write("b", "2", WriteMode.REPLACE))
                    .isInstanceOf(VaultException.NoSuchSecret.class)
                    .hasMessage("secret 'b' does not exist");
            assertThat(store.read("a")).contains("1");
            assertThatThrownBy(() -> store.write("-bad", "x", WriteMode.CREATE))
                    .hasMessageContaining("not a valid secret name");
            assertThatThrownBy(() -> store.write("bad/name", "x", WriteMode.CREATE))
                    .hasMessageContaining("not a valid secret name");
        }
    }

    @Test
    void encryptsAtRestWithAKeyOnlyTheOwnerCanRead() throws Exception {
        Path file = dir.resolve("new/vault.json");
        try (FileSecretStore store = store(file)) {
            store.write("x", VALUE, WriteMode.CREATE);
        }
        Path key = dir.resolve("new/vault.key");
        assertThat(Files.readString(file)).doesNotContain(VALUE).contains("\"x\"").contains("AES-256-GCM");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("new"))))
                .isEqualTo("rwx------");
        assertThat(Base64.getDecoder().decode(Files.readString(key).trim())).hasSize(32);
        // no temporary file is left behind by the atomic replace
        try (var files = Files.list(dir.resolve("new"))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("vault.json", "vault.key", "vault.json.lock");
        }
    }

    @Test
    void aWrongKeyIsAClearErrorNeverGarbage() {
        Path file = dir.resolve("vault.json");
        String key = TestVaults.newKey();
        try (FileSecretStore store = new FileSecretStore(file, Optional.of(key), Duration.ofSeconds(1))) {
            store.write("x", VALUE, WriteMode.CREATE);
        }
        assertThat(dir.resolve("vault.key")).doesNotExist();

        try (FileSecretStore wrong = new FileSecretStore(file, Optional.of(TestVaults.newKey()), Duration.ofSeconds(1))) {
            assertThatThrownBy(() -> wrong.read("x"))
                    .isInstanceOf(VaultException.WrongKey.class)
                    .hasMessage("vault key does not match the one the vault was written with "
                            + "(key from KONTENA_LB_VAULT_KEY; vault " + file.toAbsolutePath() + "): give the key it "
                            + "was written with, in KONTENA_LB_VAULT_KEY or its key file "
                            + dir.resolve("vault.key").toAbsolutePath());
            assertThatThrownBy(wrong::list).isInstanceOf(VaultException.WrongKey.class);
            assertThatThrownBy(() -> wrong.write("y", "z", WriteMode.CREATE)).isInstanceOf(VaultException.WrongKey.class);
            assertThatThrownBy(() -> wrong.remove("x")).isInstanceOf(VaultException.WrongKey.class);
        }
        try (FileSecretStore noKey = store(file)) {
            assertThatThrownBy(() -> noKey.read("x")).hasMessageContaining("there is no key")
                    .hasMessageContaining("KONTENA_LB_VAULT_KEY");
        }
        try (FileSecretStore right = new FileSecretStore(file, Optional.of(key), Duration.ofSeconds(1))) {
            assertThat(right.read("x")).contains(VALUE);
        }
    }

    @Test
    void aBadKeyVariableIsAClearError() {
        assertThatThrownBy(() -> new FileSecretStore(dir.resolve("v.json"), Optional.of("c2hvcnQ="), Duration.ZERO))
                .hasMessageContaining("KONTENA_LB_VAULT_KEY").hasMessageContaining("5 bytes; it must be 32");
        assertThatThrownBy(() -> new FileSecretStore(dir.resolve("v.json"), Optional.of("%%%"), Duration.ZERO))
                .hasMessageContaining("not base64");
    }

    @Test
    void damageIsReportedWithoutTheValue() throws Exception {
        Path file = dir.resolve("vault.json");
        try (FileSecretStore store = store(file)) {
            store.write("x", VALUE, WriteMode.CREATE);
            store.write("y", "other", WriteMode.CREATE);
        }
        String json = Files.readString(file);
        // swap the two sealed values: each decrypts with the key, but not under the other's name
        String sealedX = json.replaceAll("(?s).*\"x\": \"([^\"]+)\".*", "$1");
        String sealedY = json.replaceAll("(?s).*\"y\": \"([^\"]+)\".*", "$1");
        Files.writeString(file, json.replace(sealedX, "@X@").replace(sealedY, sealedX).replace("@X@", sealedY));

        try (FileSecretStore store = store(file)) {
            for (String name : new String[] {"x", "y"}) {
                assertThatThrownBy(() -> store.read(name))
                        .hasMessageContaining("secret '" + name + "'").hasMessageContaining("is damaged")
                        .satisfies(e -> assertThat(e.toString()).doesNotContain(VALUE).doesNotContain("other"));
            }
            assertThatThrownBy(store::readAll).satisfies(e -> assertThat(e.toString()).doesNotContain(VALUE));
        }

        Files.writeString(file, "{ not json");
        try (FileSecretStore store = store(file)) {
            assertThatThrownBy(store::list).hasMessageContaining("is damaged");
        }
    }

    @Test
    void watchersSeeChangesMadeByAnotherProcess() throws Exception {
        Path file = dir.resolve("vault.json");
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (FileSecretStore lb = store(file); FileSecretStore operator = store(file)) {
            operator.write("kept", "1", WriteMode.CREATE);
            operator.write("gone", "1", WriteMode.CREATE);
            lb.watch(seen::addAll);

            operator.write("cert", "new", WriteMode.CREATE);
            operator.write("kept", "2", WriteMode.REPLACE);
            operator.remove("gone");

            Instant deadline = Instant.now().plusSeconds(10);
            while (seen.size() < 3 && Instant.now().isBefore(deadline)) {
                Thread.sleep(10);
            }
            assertThat(seen).containsExactlyInAnyOrder("cert", "kept", "gone");
        }
    }

    @Test
    void watchersSeeThisProcessWritesAtOnce() {
        Path file = dir.resolve("vault.json");
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (FileSecretStore store = new FileSecretStore(file, Optional.empty(), Duration.ofHours(1))) {
            store.watch(seen::addAll);
            store.write("a", "1", WriteMode.CREATE);
            assertThat(seen).containsExactly("a");
        }
    }

    @Test
    void keyFileSitsBesideTheVault() {
        assertThat(FileSecretStore.keyFileFor(Path.of("/x/vault.json"))).isEqualTo(Path.of("/x/vault.key"));
        assertThat(FileSecretStore.keyFileFor(Path.of("/x/secrets"))).isEqualTo(Path.of("/x/secrets.key"));
        assertThat(FileSecretStore.open(Optional.empty(), Map.of("KONTENA_LB_VAULT", "/y/v.json")).file())
                .isEqualTo(Path.of("/y/v.json"));
        assertThat(FileSecretStore.open(Optional.of(Path.of("/z/a.json")), Map.of("KONTENA_LB_VAULT", "/y/v.json"))
                .file()).isEqualTo(Path.of("/z/a.json"));
    }

    @Test
    void secretsMappedToOneNameAreJoinedInOrder() {
        try (FileSecretStore store = store(dir.resolve("vault.json"))) {
            store.write("www_cert", "WWW", WriteMode.CREATE);
            store.write("api_cert", "API", WriteMode.CREATE);
            store.write("stats", "pw", WriteMode.CREATE);

            SecretMapping.Resolved resolved = SecretMapping.resolve(List.of(
                    new SecretMapping("www_cert", "SSL_CERTS"),
                    new SecretMapping("absent", "SSL_CERTS"),
                    new SecretMapping("api_cert", "SSL_CERTS"),
                    new SecretMapping("stats", "STATS_PASSWORD")), store.readAll());

            assertThat(resolved.environment()).containsOnly(Map.entry("SSL_CERTS", "WWW\nAPI"),
                    Map.entry("STATS_PASSWORD", "pw"));
            assertThat(resolved.missing()).containsExactly("absent");
        }
    }
}
