package io.kontena.lb.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Applies hundreds of configuration changes while clients keep sending requests, and checks that no request
 * fails and that every answer came from an upstream that was valid for its service while the request ran.
 */
class LiveChangesUnderLoadTest {
    private static final int CHANGES = 250;

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    /** A configuration and the instant it became current. */
    private record Applied(long startNanos, long endNanos, Set<String> webInstances) {
    }

    @Test
    void noRequestFailsAndEveryAnswerComesFromAValidUpstream() throws Exception {
        List<WhoAmI> instances = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            instances.add(lb.whoami("u" + i));
        }
        Random random = new Random(42);
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        List<Applied> history = new CopyOnWriteArrayList<>();
        apply(watcher, history, config(instances, Set.of(0, 1), Balance.ROUND_ROBIN, 0, false));
        int port = lb.httpPort();

        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
        AtomicInteger answered = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        List<Future<?>> load = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            boolean keepAlive = c % 2 == 0;
            load.add(clients.submit(() -> {
                RawHttp conn = null;
                while (running.get()) {
                    long start = System.nanoTime();
                    try {
                        if (conn == null || !keepAlive) {
                            conn = new RawHttp(port);
                        }
                        RawHttp.Response r = conn.send("GET /web?n=1 HTTP/1.1\r\nHost: app.test\r\n"
                                + (keepAlive ? "" : "Connection: close\r\n") + "\r\n").read();
                        long end = System.nanoTime();
                        if (r.status() != 200) {
                            failures.add("status " + r.status() + ": " + r.text());
                        } else {
                            answers.add(new Answer(r.instance(), start, end));
                        }
                        answered.incrementAndGet();
                        if (!keepAlive) {
                            conn.close();
                            conn = null;
                        }
                    } catch (Exception e) {
                        failures.add("request failed: " + e);
                        conn = null;
                    }
                }
                return null;
            }));
        }

        for (int i = 1; i <= CHANGES; i++) {
            Set<Integer> members = new HashSet<>();
            while (members.isEmpty()) {
                for (int u = 0; u < instances.size(); u++) {
                    if (random.nextInt(3) == 0) {
                        members.add(u);
                    }
                }
            }
            Balance balance = Balance.values()[random.nextInt(Balance.values().length)];
            apply(watcher, history, config(instances, members, balance, i % 7, i % 3 == 0));
            Thread.sleep(random.nextInt(8)); // let requests run across the change; pacing, not synchronisation
        }
        running.set(false);
        for (Future<?> f : load) {
            f.get(30, TimeUnit.SECONDS);
        }
        clients.shutdown();

        assertThat(watcher.generation()).isEqualTo(CHANGES + 1);
        assertThat(failures).isEmpty();
        for (Answer a : answers) {
            assertThat(wasValid(history, a.instance(), a.start(), a.end()))
                    .as("%s answered a request, so it must have been an upstream of web while the request ran", a)
                    .isTrue();
        }
        assertThat(answered.get()).isGreaterThan(CHANGES);
    }

    private record Answer(String instance, long start, long end) {
    }

    private static void apply(ConfigWatcher watcher, List<Applied> history, Config c) {
        long before = System.nanoTime();
        assertThat(watcher.offer(c.config())).isEmpty();
        history.add(new Applied(before, System.nanoTime(), c.webInstances()));
    }

    /**
     * The instance was an upstream of web in a configuration current at some moment of [start, end]. A
     * configuration is current from the start of its apply until the end of the next one's.
     */
    private static boolean wasValid(List<Applied> history, String instance, long start, long end) {
        for (int i = 0; i < history.size(); i++) {
            Applied a = history.get(i);
            long until = i + 1 < history.size() ? history.get(i + 1).endNanos() : Long.MAX_VALUE;
            boolean overlaps = a.startNanos() <= end && until >= start;
            if (overlaps && a.webInstances().contains(instance)) {
                return true;
            }
        }
        return false;
    }

    private record Config(LbConfig config, Set<String> webInstances) {
    }

    /** "web" on /web with the given members, plus changing extra HTTP services and an optional TCP service. */
    private static Config config(List<WhoAmI> instances, Set<Integer> members, Balance balance, int extras,
                                 boolean withTcp) {
        List<Upstream> ups = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int m : members) {
            ups.add(ProxyFixture.at(instances.get(m)));
            names.add(instances.get(m).name());
        }
        List<HttpService> http = new ArrayList<>();
        http.add(new HttpService("web", balance, List.of(), List.of("/web"), true, false, ups, Timeouts.DEFAULTS,
                HeaderRules.NONE));
        for (int e = 0; e < extras; e++) {
            http.add(new HttpService("extra" + e, Balance.ROUND_ROBIN, List.of("extra" + e + ".test"), List.of(),
                    false, false, List.of(ProxyFixture.at(instances.get(e % instances.size()))), Timeouts.DEFAULTS,
                    HeaderRules.NONE));
        }
        http.sort(java.util.Comparator.comparing(HttpService::name));
        List<TcpService> tcp = withTcp
                ? List.of(ProxyFixture.tcp("db", Balance.LEAST_CONN, List.of(ProxyFixture.at(instances.get(0)))))
                : List.of();
        return new Config(new LbConfig(Optional.of(0), http, tcp, List.of()), names);
    }
}
