package io.kontena.lb.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.kontena.Stack;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestVaults;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Balanced services map vault secrets to their KONTENA_LB_* variables, as the load balancer's own are mapped. */
class VaultSecretsTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @TempDir
    Path dir;

    @Test
    void aBalancedServiceTakesItsUsersFromTheVaultAndAnUpdateAppliesLive() throws Exception {
        try (FileSecretStore store = vault()) {
            ConfigWatcher watcher = serveAliceFrom(store);
            try (RawHttp c = new RawHttp(lb.httpPort())) {
                assertThat(c.send(get(null)).read().status()).isEqualTo(401);
                assertThat(c.send(get(basic("alice", "wonderland"))).read().instance()).isEqualTo("web-1");
            }

            store.write("web_users", "user bob insecure-password builder", SecretStore.WriteMode.REPLACE);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (status(basic("alice", "wonderland")) != 401) {
                assertThat(System.nanoTime()).as("the new users applied within 10 s").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(status(basic("bob", "builder"))).isEqualTo(200);
            assertThat(watcher.problems()).isEmpty();
        }
    }

    @Test
    void aServiceWhoseUsersAreMissingFromTheVaultIsRejectedNotServedWithoutThem() throws Exception {
        try (FileSecretStore store = vault()) {
            ConfigWatcher watcher = serveAliceFrom(store);
            store.remove("web_users");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (watcher.problems().isEmpty()) {
                assertThat(System.nanoTime()).as("the missing secret reported within 10 s").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(watcher.problems()).singleElement().asString().contains(
                    "web: KONTENA_LB_BASIC_AUTH_SECRETS=(not shown): secret 'web_users' is not in the vault");
            assertThat(status(null)).as("the last good version, with its users").isEqualTo(401);
            assertThat(status(basic("alice", "wonderland"))).isEqualTo(200);
            Stack resolved = VaultSecrets.resolve(StackFile.read(stack(lb.whoami("web-2"))), store).stack();
            assertThat(resolved.services()).extracting(s -> s.name()).containsExactly("lb");
        }
    }

    @Test
    void theApplicationsOwnSecretsAreLeftAlone() throws Exception {
        try (FileSecretStore store = vault()) {
            store.write("web_users", "user alice insecure-password wonderland", SecretStore.WriteMode.CREATE);
            store.write("db_password", "hunter2", SecretStore.WriteMode.CREATE);
            Stack stack = VaultSecrets.resolve(StackFile.read(stack(lb.whoami("web-1"))), store).stack();
            assertThat(stack.services()).filteredOn(s -> s.name().equals("web")).singleElement()
                    .satisfies(web -> assertThat(web.environment())
                            .containsEntry("KONTENA_LB_BASIC_AUTH_SECRETS", "user alice insecure-password wonderland")
                            .doesNotContainKey("DB_PASSWORD"));
        }
    }

    /** web (web-1) served from the stack file, its users (alice) from the vault's web_users, following changes. */
    private ConfigWatcher serveAliceFrom(FileSecretStore store) throws Exception {
        store.write("web_users", "user alice insecure-password wonderland", SecretStore.WriteMode.CREATE);
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        StackFileSource source = lb.closeAfter(new StackFileSource(stack(lb.whoami("web-1")), Optional.empty(),
                watcher, () -> store));
        assertThat(watcher.offer(source.load())).isEmpty();
        source.start();
        return watcher;
    }

    private int status(String authorization) throws Exception {
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            return c.send(get(authorization)).read().status();
        }
    }

    private static String get(String authorization) {
        return "GET / HTTP/1.1\r\nHost: x\r\n" + (authorization == null ? "" : "Authorization: " + authorization
                + "\r\n") + "\r\n";
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private FileSecretStore vault() {
        return TestVaults.inDirectory(dir);
    }

    /** web's users come from the secret web_users; its DB_PASSWORD from a secret that is the application's. */
    private Path stack(WhoAmI web) throws java.io.IOException {
        Path file = dir.resolve("kontena.yml");
        Files.writeString(file, """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["0:80"]
                  web:
                    image: web
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                    secrets:
                      - secret: web_users
                        name: KONTENA_LB_BASIC_AUTH_SECRETS
                        type: env
                      - secret: db_password
                        name: DB_PASSWORD
                        type: env
                """.formatted(web.port()));
        return file;
    }
}
