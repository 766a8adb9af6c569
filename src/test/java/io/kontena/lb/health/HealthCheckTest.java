package io.kontena.lb.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HealthCheck;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Active health checks against real upstreams: out of rotation after failed checks, back after good ones. */
class HealthCheckTest {
    private static final Duration INTERVAL = Duration.ofMillis(100);

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private static HttpService web(Optional<HealthCheck> check, Upstream... upstreams) {
        return new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false, List.of(upstreams),
                Timeouts.DEFAULTS, HeaderRules.NONE, check, Optional.empty(), Optional.empty());
    }

    /** An upstream whose /health answers with the status set here; every other path answers 200 as "b". */
    private HttpServer upstreamWithHealth(AtomicInteger healthStatus) throws IOException {
        return upstreamWithHealth("b", healthStatus, new AtomicInteger());
    }

    /** As above, named, counting the checks it gets. */
    private HttpServer upstreamWithHealth(String name, AtomicInteger healthStatus, AtomicInteger checks)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", exchange -> {
            boolean check = exchange.getRequestURI().getPath().equals("/health");
            if (check) {
                checks.incrementAndGet();
            }
            int status = check ? healthStatus.get() : 200;
            exchange.getResponseHeaders().add("x-instance", name);
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        lb.closeAfter(() -> server.stop(0));
        return server;
    }

    @Test
    void anHttpCheckTakesAnUpstreamOutOfRotationOnA5xxAndPutsItBackOnA2xx() throws Exception {
        WhoAmI a = lb.whoami("a");
        AtomicInteger health = new AtomicInteger(200);
        HttpServer b = upstreamWithHealth(health);
        lb.serve(web(Optional.of(new HealthCheck("/health", 0, INTERVAL, Duration.ofMillis(500))),
                ProxyFixture.at(a), new Upstream("127.0.0.1", b.getAddress().getPort())));
        int port = lb.httpPort();
        await(() -> answering(port).containsAll(Set.of("a", "b")));

        health.set(503);
        await(() -> answering(port).equals(Set.of("a")));
        assertThat(answering(port)).containsExactly("a");

        health.set(302); // 3xx counts as healthy, as with HAProxy
        await(() -> answering(port).contains("b"));
    }

    @Test
    void aTcpCheckOnAnotherPortDecidesWhetherAnUpstreamThatStillAnswersGetsWork() throws Exception {
        WhoAmI a = lb.whoami("a", "127.0.0.1");
        WhoAmI b = lb.whoami("b", "127.0.0.2");
        try (ServerSocket checkA = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int checkPort = checkA.getLocalPort();
            lb.serve(web(Optional.of(new HealthCheck("", checkPort, INTERVAL, Duration.ofMillis(500))),
                    ProxyFixture.at(a), new Upstream("127.0.0.2", b.port())));
            int port = lb.httpPort();
            // nothing listens on 127.0.0.2's check port: b leaves the rotation though it answers on its own port
            await(() -> answering(port).equals(Set.of("a")));

            try (ServerSocket checkB = new ServerSocket(checkPort, 50, InetAddress.getByName("127.0.0.2"))) {
                await(() -> answering(port).containsAll(Set.of("a", "b")));
            }
        }
    }

    @Test
    void anUpstreamNoLongerCheckedIsBackInRotationAndOneThatStaysKeepsItsState() throws Exception {
        WhoAmI a = lb.whoami("a");
        AtomicInteger health = new AtomicInteger(500);
        HttpServer b = upstreamWithHealth(health);
        Upstream bUpstream = new Upstream("127.0.0.1", b.getAddress().getPort());
        HealthCheck check = new HealthCheck("/health", 0, INTERVAL, Duration.ofMillis(500));
        lb.serve(web(Optional.of(check), ProxyFixture.at(a), bUpstream));
        int port = lb.httpPort();
        await(() -> answering(port).equals(Set.of("a")));

        // another change of the service that keeps the check: b stays out, then and later
        WhoAmI c = lb.whoami("c");
        lb.serve(web(Optional.of(check), ProxyFixture.at(a), bUpstream, ProxyFixture.at(c)));
        assertThat(answering(port)).containsExactlyInAnyOrder("a", "c");
        Thread.sleep(INTERVAL.toMillis() * 5);
        assertThat(answering(port)).containsExactlyInAnyOrder("a", "c");
        // a check that changes goes on from where it stands: b is still out
        lb.serve(web(Optional.of(new HealthCheck("/health", 0, INTERVAL, Duration.ofMillis(400))), ProxyFixture.at(a),
                bUpstream, ProxyFixture.at(c)));
        assertThat(answering(port)).containsExactlyInAnyOrder("a", "c");

        lb.serve(web(Optional.empty(), ProxyFixture.at(a), bUpstream, ProxyFixture.at(c)));
        assertThat(answering(port)).containsExactlyInAnyOrder("a", "b", "c");
    }

    @Test
    void whenEveryUpstreamIsDownRequestsStillGoToThem() throws Exception {
        AtomicInteger health = new AtomicInteger(503);
        HttpServer b = upstreamWithHealth(health);
        HttpServer c = upstreamWithHealth("c", health, new AtomicInteger());
        lb.serve(web(Optional.of(new HealthCheck("/health", 0, INTERVAL, Duration.ofMillis(500))),
                new Upstream("127.0.0.1", b.getAddress().getPort()), new Upstream("127.0.0.1", c.getAddress().getPort())));
        await(() -> down().size() == 2);
        // each request starts at a random one of them: 40 requests all to one would be a 1 in 2^39 chance
        assertThat(answering(lb.httpPort(), 40)).containsExactlyInAnyOrder("b", "c");
    }

    @Test
    void anUpstreamThatAcceptsButNeverAnswersFailsItsChecksByTheTimeout() throws Exception {
        WhoAmI a = lb.whoami("a");
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) { // never accepts
            Upstream mute = new Upstream("127.0.0.1", silent.getLocalPort());
            lb.serve(web(Optional.of(new HealthCheck("/health", 0, INTERVAL, Duration.ofMillis(200))),
                    ProxyFixture.at(a), mute));
            await(() -> down().equals(List.of(mute)));
        }
    }

    @Test
    void anUpstreamWhoseNameDoesNotResolveIsDownAndTheChecksOfARemovedServiceStop() throws Exception {
        WhoAmI a = lb.whoami("a");
        AtomicInteger checks = new AtomicInteger();
        HttpServer b = upstreamWithHealth("b", new AtomicInteger(200), checks);
        Upstream nowhere = new Upstream("no-such-host.invalid", 80);
        lb.serve(web(Optional.of(new HealthCheck("/health", 0, INTERVAL, Duration.ofMillis(500))),
                ProxyFixture.at(a), new Upstream("127.0.0.1", b.getAddress().getPort()), nowhere));
        await(() -> down().equals(List.of(nowhere)));
        assertThat(checks.get()).isPositive();

        lb.serve(ProxyFixture.http("other", List.of(), List.of("/"), a));
        Thread.sleep(INTERVAL.toMillis() * 3); // a check under way when the service left may still arrive
        int after = checks.get();
        Thread.sleep(INTERVAL.toMillis() * 5);
        assertThat(checks.get()).as("no checks of a removed service's upstreams").isEqualTo(after);
    }

    /** The upstreams of web that health checks took out of rotation. */
    private List<Upstream> down() {
        return lb.runtime().upstreamStates().getOrDefault("web", List.of()).stream().filter(e -> !e.healthy())
                .map(e -> e.upstream()).toList();
    }

    private static Set<String> answering(int port) throws IOException {
        return answering(port, 9);
    }

    /** The instances that answered these many requests, each on a new connection. */
    private static Set<String> answering(int port, int requests) throws IOException {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < requests; i++) {
            seen.add(RawHttp.get(port, "x", "/").instance());
        }
        return seen;
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void await(Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!check.holds()) {
            assertThat(System.nanoTime()).as("met within 10 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
