package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/kontena-lb}, the way the load balancer is started, on the jar that {@code mvn package} built (so this
 * runs in the verify phase, after it): each start of {@code run} after the first on a jar and a JDK loads the classes
 * the first one wrote into an archive as it ended. The JVM says where each class came from
 * ({@code -Xlog:class+load}, through {@code JAVA_OPTS}): "shared objects file (top)" is the archive of the launcher.
 */
class LauncherIT {
    private static final String FROM_ARCHIVE = "io.kontena.lb.cli.Main source: shared objects file (top)";
    private static final String FROM_JAR = "io.kontena.lb.cli.Main source: file:";

    @TempDir
    Path dir;

    private Path jar;
    private Path archives;
    private int port;

    @BeforeEach
    void copyTheJar() throws IOException {
        // A copy, so the test can give it a new time as a new build would have.
        jar = Files.copy(Path.of("target", "kontena-lb.jar"), dir.resolve("kontena-lb.jar"));
        archives = dir.resolve("archives");
        port = LbProcess.freePort();
    }

    @Test
    void aRunStartsWithTheClassesTheFirstRunOfItsJarLoadedAndANewJarMakesItsOwnArchive() throws Exception {
        try (RawServer db = RawServer.greeter("db")) {
            Path stack = stack(db);

            String first = serveAndStop(stack, archives.toString());
            assertThat(first).contains(FROM_JAR).doesNotContain(FROM_ARCHIVE);
            List<Path> made = archives();
            assertThat(made).as("the archive the first run wrote as it ended").hasSize(1);
            assertThat(Files.size(made.get(0))).isGreaterThan(1_000_000);

            assertThat(serveAndStop(stack, archives.toString())).contains(FROM_ARCHIVE);
            assertThat(archives()).isEqualTo(made);

            Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
            assertThat(serveAndStop(stack, archives.toString())).as("a new jar, not the old one's archive")
                    .contains(FROM_JAR).doesNotContain(FROM_ARCHIVE);
            List<Path> remade = archives();
            assertThat(remade).as("the new jar's archive in place of the old one's").hasSize(1).doesNotContainAnyElementsOf(made);
            assertThat(serveAndStop(stack, archives.toString())).contains(FROM_ARCHIVE);
        }
    }

    @Test
    void anArchiveWrittenByARunThatEndedBeforeItServedIsMadeAgainByTheNextStart() throws Exception {
        try (RawServer db = RawServer.greeter("db")) {
            Path missing = dir.resolve("missing.yml");
            LbProcess failed = LbProcess.launcher(environment(archives.toString()), "run", "--stack",
                    missing.toString(), "--bind", "127.0.0.1");
            assertThat(failed.awaitExit(Duration.ofSeconds(30))).as(failed.log()).isNotZero();
            List<Path> partial = archives();
            assertThat(partial).as("the archive and its mark").hasSize(2);
            assertThat(partial.get(1)).hasFileName(partial.get(0).getFileName() + ".partial");
            long partialSize = Files.size(partial.get(0));

            Path stack = stack(db);
            assertThat(serveAndStop(stack, archives.toString())).as("not the partial archive")
                    .contains(FROM_JAR).doesNotContain(FROM_ARCHIVE);
            List<Path> remade = archives();
            assertThat(remade).as("the same archive, made again, with no mark").isEqualTo(partial.subList(0, 1));
            assertThat(Files.size(remade.get(0))).as("classes of a run that served").isGreaterThan(partialSize);
            assertThat(serveAndStop(stack, archives.toString())).contains(FROM_ARCHIVE);
            assertThat(archives()).isEqualTo(remade);
        }
    }

    @Test
    void whereNoArchiveCanBeWrittenItStartsWithoutOneSaysSoAndEndsCleanly() throws Exception {
        try (RawServer db = RawServer.greeter("db")) {
            // A JVM asked to write its archive where it cannot would end with exit status 1.
            String log = serveAndStop(stack(db), "/dev/null/archives");
            assertThat(log).contains("kontena-lb: starting without a class archive: cannot write to /dev/null/archives")
                    .contains(FROM_JAR);
        }
    }

    @Test
    void otherCommandsAndAnEmptyDirectoryMakeNoArchive() throws Exception {
        try (RawServer db = RawServer.greeter("db")) {
            Path stack = stack(db);
            LbProcess validate = LbProcess.launcher(environment(archives.toString()), "validate", "--stack",
                    stack.toString());
            assertThat(validate.awaitExit(Duration.ofSeconds(30))).as(validate.log()).isZero();
            assertThat(archives).doesNotExist();

            assertThat(serveAndStop(stack, "")).contains(FROM_JAR).doesNotContain("class archive");
            assertThat(archives).doesNotExist();
        }
    }

    /**
     * Starts {@code run} through the launcher with its archives in {@code archiveDirectory}, waits until it relays a
     * TCP connection, stops it and checks that it ended cleanly; returns its stderr and the JVM's class-loading log.
     */
    private String serveAndStop(Path stack, String archiveDirectory) throws Exception {
        Path classes = Files.createTempFile(dir, "classes", ".log");
        Map<String, String> environment = new HashMap<>(environment(archiveDirectory));
        environment.put("JAVA_OPTS", "-Xmx128m -Xlog:class+load=info:file=" + classes);
        LbProcess lb = LbProcess.launcher(environment, "run", "--stack", stack.toString(), "--bind", "127.0.0.1",
                "--access-log=false");
        try {
            lb.awaitListening(port);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                assertThat(RawServer.greeting(s, 10_000)).isEqualTo("db");
            }
        } finally {
            lb.terminate();
        }
        assertThat(lb.awaitExit(Duration.ofSeconds(30))).as(lb.log()).isZero();
        assertThat(lb.stdout()).as("stdout, the access log's stream").isEmpty();
        return lb.log() + Files.readString(classes);
    }

    private Map<String, String> environment(String archiveDirectory) {
        return Map.of("KONTENA_LB_JAR", jar.toString(), "KONTENA_LB_CLASS_ARCHIVES", archiveDirectory,
                "JAVA_HOME", System.getProperty("java.home"));
    }

    private List<Path> archives() throws IOException {
        try (Stream<Path> files = Files.list(archives)) {
            return files.sorted().toList();
        }
    }

    private Path stack(RawServer db) throws IOException {
        Path stack = dir.resolve("kontena.yml");
        Files.writeString(stack, """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["%d:5000"]
                  db:
                    image: db
                    environment: {KONTENA_LB_MODE: tcp, KONTENA_LB_EXTERNAL_PORT: "5000"}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(port, db.port()));
        return stack;
    }
}
