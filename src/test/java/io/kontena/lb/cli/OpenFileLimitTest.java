package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process out of open files: the listener stops accepting, so the connections wait in the kernel's queue, instead
 * of being woken for them again and again (a core spent on failing, a log line each time), and accepts again once
 * files are free. The limit is lowered on the running process to the files it has open, past what its connection
 * limit was made for.
 */
class OpenFileLimitTest {
    @TempDir
    Path dir;

    @Test
    void outOfFilesItStopsAcceptingRatherThanSpinningAndAcceptsAgainOnceFilesAreFree() throws Exception {
        try (RawServer db = RawServer.greeter("db")) {
            int tcp = LbProcess.freePort();
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
                    """.formatted(tcp, db.port()));
            try (LbProcess lb = LbProcess.run(stack, List.of("-Xmx128m"), "--max-connections", "3")) {
                lb.awaitListening(tcp);
                String pid = Long.toString(lb.pid());
                long firstFree = lowestFreeDescriptor(pid);
                List<Socket> relayed = new ArrayList<>();
                List<Socket> queued = new ArrayList<>();
                try {
                    for (int i = 0; i < 3; i++) {
                        relayed.add(connect(tcp));
                        assertThat(RawServer.greeting(relayed.get(i), 10_000)).isEqualTo("db");
                    }
                    // The relays hold the lowest free descriptors from firstFree on: below it, none is free. With
                    // the limit there, the files a relay frees cannot be had again.
                    prlimit(pid, firstFree);
                    for (int i = 0; i < 5; i++) {
                        queued.add(connect(tcp)); // the kernel completes them: they queue
                    }
                    relayed.get(0).close(); // below the connection limit: the listener accepts, out of files
                    Thread.sleep(500);
                    long before = cpuTicks(pid);
                    Thread.sleep(2000);
                    assertThat(cpuTicks(pid) - before).as("CPU time (1/100 s) used in 2 s out of files")
                            .isLessThan(50);
                    String log = lb.log();
                    assertThat(log).contains("Too many open files");
                    assertThat(log.lines().filter(l -> l.contains("Too many open files")
                            && l.contains("wait in the kernel's accept queue")).count())
                            .as("warnings of failed accepts, at most one per 10 s").isEqualTo(1);
                    assertThat(log).doesNotContain("reached at the tail of the pipeline");

                    prlimit(pid, 4096);
                    assertThat(RawServer.greeting(queued.get(0), 10_000)).as("the first queued, once files can be had")
                            .isEqualTo("db");
                } finally {
                    for (Socket s : relayed) {
                        s.close();
                    }
                    for (Socket s : queued) {
                        s.close();
                    }
                }
                try (Socket s = connect(tcp)) {
                    assertThat(RawServer.greeting(s, 10_000)).as("a new connection, once all closed").isEqualTo("db");
                }
            }
        }
    }

    @Test
    void outOfFilesForAnUpstreamConnectionTheRequestIsAnswered503AndServedAgainOnceFilesAreFree() throws Exception {
        // Each answer closes its connection: every request needs a new one, a new file.
        try (RawServer web = new RawServer((s, in, out) -> {
            BufferedReader head = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
            String line;
            while ((line = head.readLine()) != null && !line.isEmpty()) {
                // the request's head
            }
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    .getBytes(StandardCharsets.ISO_8859_1));
        })) {
            int http = LbProcess.freePort();
            Path stack = dir.resolve("kontena.yml");
            Files.writeString(stack, """
                    services:
                      lb:
                        image: kontena/lb
                        ports: ["%d:80"]
                      web:
                        image: web
                        environment: {KONTENA_LB_VIRTUAL_HOSTS: web.test}
                        links: [lb]
                        upstreams: ["127.0.0.1:%d"]
                    """.formatted(http, web.port()));
            try (LbProcess lb = LbProcess.run(stack, List.of("-Xmx128m")).awaitListening(http);
                 RawHttp client = new RawHttp(http)) {
                String pid = Long.toString(lb.pid());
                String get = "GET / HTTP/1.1\r\nHost: web.test\r\n\r\n";
                assertThat(client.send(get).read().status()).isEqualTo(200);
                // A first 503 (no service for the host): the tests' process reads classes from files, one at a
                // time, as it first needs them (the shipped jar is open from the start); out of files, it could not.
                assertThat(client.send("GET / HTTP/1.1\r\nHost: other.test\r\n\r\n").read().status())
                        .isEqualTo(503);

                prlimit(pid, lowestFreeDescriptor(pid));
                RawHttp.Response refused = client.send(get).read();
                assertThat(refused.status()).isEqualTo(503);
                assertThat(lb.log()).contains("Too many open files").doesNotContain("not registered");

                prlimit(pid, 4096);
                assertThat(client.send(get).read().status()).as("the same client, once files can be had")
                        .isEqualTo(200);
            }
        }
    }

    /** Sets the soft limit only: the hard one stays, so it can be raised again without privileges. */
    private static void prlimit(String pid, long files) throws Exception {
        Process prlimit = new ProcessBuilder("prlimit", "--pid", pid, "--nofile=" + files + ":")
                .inheritIO().start();
        assertThat(prlimit.waitFor()).as("prlimit's exit status").isZero();
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    /** A new file gets the lowest descriptor number not in use, which must be below the limit. */
    private static long lowestFreeDescriptor(String pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", pid, "fd"))) {
            Set<Long> used = fds.map(p -> Long.parseLong(p.getFileName().toString())).collect(Collectors.toSet());
            long n = 0;
            while (used.contains(n)) {
                n++;
            }
            return n;
        }
    }

    /** User and system time of a process, in clock ticks (1/100 s): fields 14 and 15 of /proc/PID/stat. */
    private static long cpuTicks(String pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", pid, "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
