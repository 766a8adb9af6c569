package io.kontena.lb.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class StackFileSourceTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @TempDir
    Path dir;

    private static String stack(String path, WhoAmI upstream, String balance) {
        return """
                services:
                  lb:
                    image: kontena/lb:latest
                    ports: ["0:80"]
                  web:
                    image: whoami
                    environment:
                      KONTENA_LB_VIRTUAL_PATH: %s
                      KONTENA_LB_BALANCE: %s
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(path, balance, upstream.port());
    }

    @Test
    void savedChangesApplyAndBadOnesKeepTheLastGoodVersion() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        Path file = dir.resolve("kontena.yml");
        Files.writeString(file, stack("/one", a, "roundrobin"));
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        try (StackFileSource source = new StackFileSource(file, Optional.empty(), watcher)) {
            assertThat(watcher.offer(source.load())).isEmpty();
            source.start();
            int port = lb.httpPort();
            assertThat(RawHttp.get(port, "x", "/one/").instance()).isEqualTo("a");

            // Saved by writing a new file and renaming it over the old one, as many editors do.
            Path tmp = dir.resolve(".kontena.yml.swp");
            Files.writeString(tmp, stack("/two", b, "roundrobin"));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            await(() -> watcher.generation() == 2);
            assertThat(RawHttp.get(port, "x", "/two/").instance()).isEqualTo("b");
            assertThat(RawHttp.get(port, "x", "/one/").status()).isEqualTo(503);

            // An invalid service keeps its last good version; the problem is reported.
            Files.writeString(file, stack("/three", a, "fastest"));
            await(() -> !watcher.problems().isEmpty());
            assertThat(watcher.problems().get(0).toString()).contains("web", "KONTENA_LB_BALANCE", "fastest");
            assertThat(RawHttp.get(port, "x", "/two/").instance()).isEqualTo("b");

            // A file that does not parse changes nothing.
            Files.writeString(file, "services: [unclosed");
            await(() -> watcher.problems().get(0).subject().equals("configuration"));
            assertThat(RawHttp.get(port, "x", "/two/").instance()).isEqualTo("b");

            source.reload(); // as on SIGHUP: still the same bad file, still serving
            assertThat(RawHttp.get(port, "x", "/two/").instance()).isEqualTo("b");

            Files.writeString(file, stack("/four", a, "leastconn"));
            await(() -> watcher.applied().http().get(0).virtualPaths().contains("/four"));
            assertThat(RawHttp.get(port, "x", "/four/").instance()).isEqualTo("a");
            assertThat(watcher.problems()).isEmpty();
        }
    }

    @Test
    void aSaveAppliesWhileAFileBesideItIsWrittenAllTheTime() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        Path file = dir.resolve("kontena.yml");
        Files.writeString(file, stack("/one", a, "roundrobin"));
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        AtomicBoolean stop = new AtomicBoolean();
        // A log in the same directory, written every few milliseconds, as when the process's output goes there.
        Thread log = new Thread(() -> {
            try (BufferedWriter out = Files.newBufferedWriter(dir.resolve("lb.log"))) {
                while (!stop.get()) {
                    out.write("a line of the log\n");
                    out.flush();
                    Thread.sleep(5);
                }
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try (StackFileSource source = new StackFileSource(file, Optional.empty(), watcher)) {
            assertThat(watcher.offer(source.load())).isEmpty();
            source.start();
            log.start();
            Thread.sleep(200);
            assertThat(watcher.generation()).as("the log's writes are no change of the stack file").isEqualTo(1);

            Files.writeString(file, stack("/two", b, "roundrobin"));
            await(() -> watcher.generation() == 2);
            assertThat(RawHttp.get(lb.httpPort(), "x", "/two/").instance()).isEqualTo("b");
        } finally {
            stop.set(true);
            log.join();
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met within 10 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
