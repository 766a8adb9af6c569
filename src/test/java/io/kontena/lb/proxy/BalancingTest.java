package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.at;
import static io.kontena.lb.testing.ProxyFixture.http;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How each balancer spreads HTTP requests over real upstreams. */
class BalancingTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private static Map<String, Long> count(List<String> names) {
        return names.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    @Test
    void roundRobinIsEvenOverThreeUpstreams() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        WhoAmI c = lb.whoami("c");
        lb.serve(http("web", Balance.ROUND_ROBIN, List.of(at(a), at(b), at(c))));
        List<String> seen = new ArrayList<>();
        // on one keep-alive connection, and on new connections
        try (RawHttp conn = new RawHttp(lb.httpPort())) {
            for (int i = 0; i < 30; i++) {
                seen.add(conn.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().instance());
            }
        }
        for (int i = 0; i < 30; i++) {
            seen.add(RawHttp.get(lb.httpPort(), "x", "/").instance());
        }
        assertThat(count(seen)).containsOnly(Map.entry("a", 20L), Map.entry("b", 20L), Map.entry("c", 20L));
    }

    private static String client(int i) {
        return "127.0.0." + (i + 2);
    }

    private Map<String, String> sourceMap(int clients) throws Exception {
        Map<String, String> chosen = new HashMap<>();
        for (int i = 0; i < clients; i++) {
            chosen.put(client(i), RawHttp.get(lb.httpPort(), client(i), "x", "/").instance());
        }
        return chosen;
    }

    @Test
    void sourceKeepsEachClientOnOneUpstreamAndMovesFewWhenOneIsAdded() throws Exception {
        WhoAmI a = lb.whoami("a");
        WhoAmI b = lb.whoami("b");
        WhoAmI c = lb.whoami("c");
        WhoAmI d = lb.whoami("d");
        int clients = 60;
        lb.serve(http("web", Balance.SOURCE, List.of(at(a), at(b), at(c))));
        Map<String, String> first = sourceMap(clients);
        // stable: each client sees the same upstream every time, on new and on kept connections
        assertThat(sourceMap(clients)).isEqualTo(first);
        try (RawHttp conn = new RawHttp(lb.httpPort(), client(0))) {
            for (int i = 0; i < 5; i++) {
                assertThat(conn.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").read().instance()).isEqualTo(first.get(client(0)));
            }
        }
        // spread: every upstream has some clients
        assertThat(first.values()).contains("a", "b", "c");
        assertThat(count(new ArrayList<>(first.values())).values()).allMatch(n -> n >= clients / 10);

        lb.serve(http("web", Balance.SOURCE, List.of(at(a), at(b), at(c), at(d))));
        Map<String, String> second = sourceMap(clients);
        List<String> moved = first.keySet().stream().filter(k -> !first.get(k).equals(second.get(k))).toList();
        // only clients that now go to the new upstream moved, and about a quarter of them
        assertThat(moved).allMatch(k -> second.get(k).equals("d"));
        assertThat(moved.size()).isBetween(1, clients / 2);
    }

    @Test
    void leastConnectionsSendsFewerRequestsToASlowUpstream() throws Exception {
        HttpServer slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        ExecutorService slowThreads = Executors.newFixedThreadPool(16);
        slow.setExecutor(slowThreads);
        slow.createContext("/", exchange -> {
            try {
                Thread.sleep(300); // the slowness under test, not synchronisation
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "slow".getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("X-Instance", "slow");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        slow.start();
        lb.closeAfter(() -> {
            slow.stop(0);
            slowThreads.shutdownNow();
        });
        WhoAmI fast = lb.whoami("fast");
        lb.serve(http("web", Balance.LEAST_CONN, List.of(new Upstream("127.0.0.1", slow.getAddress().getPort()),
                at(fast))));

        int clients = 8;
        int perClient = 15;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                results.add(pool.submit(() -> {
                    List<String> names = new ArrayList<>();
                    for (int j = 0; j < perClient; j++) {
                        RawHttp.Response r = RawHttp.get(lb.httpPort(), "x", "/");
                        assertThat(r.status()).isEqualTo(200);
                        names.add(r.instance());
                    }
                    return names;
                }));
            }
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : results) {
                all.addAll(f.get(60, TimeUnit.SECONDS));
            }
            Map<String, Long> counts = count(all);
            // round robin would give the slow one half; least connections keeps it to about one in concurrency
            assertThat(counts.getOrDefault("slow", 0L)).isGreaterThan(0).isLessThan(clients * perClient / 4);
        } finally {
            pool.shutdownNow();
        }
    }
}
