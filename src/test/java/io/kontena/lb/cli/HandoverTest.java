package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.proxy.TransportKind;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import io.kontena.lb.testing.SteadyLoad;
import io.netty.channel.EventLoopGroup;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-over of the listening sockets to a new process ({@code --handover-socket}, {@code --take-over}) with real
 * processes under steady load of every kind: no connection attempt is refused or reset, no request fails.
 */
class HandoverTest {
    /** Small, and quick to start: four processes start one after the other. */
    private static final List<String> JVM = List.of("-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    @TempDir
    Path dir;

    private EventLoopGroup loops;

    @AfterEach
    void stopUpstreams() {
        if (loops != null) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void newProcessesTakeOverUnderLoadWithoutLosingAConnection() throws Exception {
        loops = Transport.eventLoops(1, "upstreams");
        WhoAmI web1 = WhoAmI.start("web-1", "127.0.0.1", 0, loops);
        WhoAmI web2 = WhoAmI.start("web-2", "127.0.0.1", 0, loops);
        try (RawServer db = RawServer.greeter("db-1"); ServerSocket taken = new ServerSocket(0)) {
            int http = LbProcess.freePort();
            int tcp = LbProcess.freePort();
            int admin = LbProcess.freePort();
            Path socket = dir.resolve("lb.sock");
            Path stack = stack(http, tcp, web1, web2, db, 0);
            String[] options = {"--handover-socket", socket.toString(), "--admin", "127.0.0.1:" + admin,
                    "--drain-timeout", "20"};

            LbProcess first = LbProcess.run(stack, JVM, options);
            try (first) {
                first.awaitListening(http).awaitListening(tcp); // listeners open one after the other
                try (SteadyLoad load = SteadyLoad.start(new SteadyLoad.Target(http,
                        List.of(new SteadyLoad.Route("app.test", "/web")), new SteadyLoad.Route("", "/web"), tcp))) {
                    load.awaitMore(2);

                    // A new process that cannot serve its configuration (a port in use) leaves the old one as it was.
                    Path broken = stack(http, tcp, web1, web2, db, taken.getLocalPort());
                    try (LbProcess failed = LbProcess.run(broken, JVM, "--take-over", socket.toString(),
                            "--handover-socket", socket.toString())) {
                        assertThat(failed.awaitExit(Duration.ofSeconds(30))).isEqualTo(1);
                        assertThat(failed.log()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort());
                    }
                    assertThat(first.isAlive()).isTrue();
                    load.awaitMore(2);

                    // Two hand-overs in a row: each new process serves the hand-over socket for the next. The
                    // middle one runs the other native transport (epoll when the others run io_uring, and io_uring,
                    // where the kernel has it, when they run epoll): a listening socket goes from either native
                    // transport to the other, as when one is switched.
                    TransportKind other = Transport.kind() == TransportKind.IO_URING ? TransportKind.EPOLL
                            : TransportKind.IO_URING;
                    LbProcess second = LbProcess.run(Map.of(Transport.VARIABLE, other.label()), stack, JVM,
                            concat(options, "--take-over", socket.toString()));
                    try (second) {
                        LbProcess.awaitCleanExitOfReplaced(first, second, Duration.ofSeconds(30));
                        assertThat(first.log()).contains(" " + Transport.name() + " event loop(s)");
                        assertThat(second.log()).contains(" " + (other.isAvailable() ? other : TransportKind.EPOLL)
                                .label() + " event loop(s)");
                        assertThat(first.log()).contains("sent 3 listening socket(s) to pid " + second.pid());
                        assertThat(second.log()).contains("took over from pid " + first.pid());
                        load.awaitMore(2);

                        LbProcess third = LbProcess.run(stack, JVM, concat(options, "--take-over", socket.toString()));
                        try (third) {
                            LbProcess.awaitCleanExitOfReplaced(second, third, Duration.ofSeconds(30));
                            assertThat(third.log()).contains(" " + Transport.name() + " event loop(s)");
                            load.awaitMore(2);
                            RawHttp.Response health = RawHttp.get(admin, "x", "/api/health");
                            assertThat(health.status()).isEqualTo(200);
                            assertThat(Files.exists(socket)).as("the socket of the serving process").isTrue();
                            load.close();
                            third.terminate();
                            assertThat(third.awaitExit(Duration.ofSeconds(30))).isZero();
                        }
                    }
                    assertThat(load.failures()).isEmpty();
                    for (SteadyLoad.Answer a : load.answers()) {
                        assertThat(a.instance()).isIn(Set.of("web-1", "web-2", "db-1"));
                    }
                    assertThat(Files.exists(socket)).as("removed by the last process").isFalse();
                }
            }
        }
    }

    @Test
    void takeOverFailuresSayWhatIsWrong() throws Exception {
        Path stack = stack(LbProcess.freePort(), LbProcess.freePort());
        Path missing = dir.resolve("missing.sock");
        assertThat(run(stack, "--take-over", missing.toString()).err())
                .contains("--take-over " + missing + ": no such file", "--handover-socket " + missing);

        Path file = Files.writeString(dir.resolve("file"), "not a socket");
        assertThat(run(stack, "--take-over", file.toString()).err())
                .contains("not a socket");
        assertThat(run(stack, "--handover-socket", file.toString()).err())
                .contains("the file exists and is not a socket");

        // A socket file left behind by a process that has ended.
        Path stale = dir.resolve("stale.sock");
        try (var server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            server.bind(java.net.UnixDomainSocketAddress.of(stale));
        }
        CliTest.Result r = run(stack, "--take-over", stale.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no process serves this socket");
    }

    @Test
    void aLiveHandoverSocketIsNotReplacedWithoutTakingOver() throws Exception {
        int http = LbProcess.freePort();
        Path socket = dir.resolve("lb.sock");
        Path stack = stack(http, LbProcess.freePort());
        try (LbProcess running = LbProcess.run(stack, JVM, "--handover-socket", socket.toString())) {
            running.awaitListening(http);
            // the socket opens after the listeners: without it, the run below would make its own and serve
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (!Files.exists(socket)) {
                assertThat(System.nanoTime()).as("hand-over socket %s made", socket).isLessThan(deadline);
                Thread.sleep(20);
            }
            Path other = stack(LbProcess.freePort(), LbProcess.freePort());
            CliTest.Result r = run(other, "--handover-socket", socket.toString());
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("another load balancer serves this socket", "--take-over " + socket);
            assertThat(running.isAlive()).isTrue();
        }
    }

    /** {@code run} in this JVM, for the ways it fails before serving. */
    private static CliTest.Result run(Path stack, String... args) {
        return CliTest.cli(concat(new String[] {"run", "--stack", stack.toString(), "--bind", "127.0.0.1",
                "--access-log=false"}, args));
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }


    private Path stack(int http, int tcp) throws java.io.IOException {
        return stack(http, tcp, null, null, null, 0);
    }

    /**
     * HTTP on /web and a TCP service; upstreams may be null where nothing is served.
     *
     * @param extra 0, or the port of a second TCP service
     */
    private Path stack(int http, int tcp, WhoAmI web1, WhoAmI web2, RawServer db, int extra)
            throws java.io.IOException {
        Path p = Files.createTempFile(dir, "stack", ".yml");
        String extraService = extra == 0 ? "" : """
                  extra:
                    image: extra
                    environment: {KONTENA_LB_MODE: tcp, KONTENA_LB_EXTERNAL_PORT: "5001"}
                    links: [lb]
                    upstreams: ["127.0.0.1:4"]
                """;
        Files.writeString(p, """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["%d:80", "%d:5000"%s]
                  web:
                    image: whoami
                    environment: {KONTENA_LB_VIRTUAL_PATH: /web, KONTENA_LB_KEEP_VIRTUAL_PATH: "true"}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d", "127.0.0.1:%d"]
                  db:
                    image: db
                    environment: {KONTENA_LB_MODE: tcp, KONTENA_LB_EXTERNAL_PORT: "5000"}
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(http, tcp, extra == 0 ? "" : ", \"" + extra + ":5001\"",
                web1 == null ? 1 : web1.port(), web2 == null ? 2 : web2.port(), db == null ? 3 : db.port())
                + extraService);
        return p;
    }
}
