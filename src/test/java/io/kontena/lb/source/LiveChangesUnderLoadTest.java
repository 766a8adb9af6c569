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
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawServer;
import io.kontena.lb.testing.SteadyLoad;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Applies hundreds of configuration changes (services, hosts, paths, upstreams, balance and TCP services added,
 * changed and removed) while steady load of every kind runs: keep-alive requests, a new connection per request, long
 * streamed responses, WebSocket sessions and TCP streams. No request or connection may fail, and every answer must
 * come from an upstream that was valid for its route while the exchange was being set up.
 */
class LiveChangesUnderLoadTest {
    private static final int CHANGES = 220;
    private static final Balance[] BALANCES = Balance.values();

    /** Routes of the load; each is served in every configuration, by services that change around it. */
    private static final SteadyLoad.Route APP = new SteadyLoad.Route("app.test", "/app");
    private static final SteadyLoad.Route WEB = new SteadyLoad.Route("anything.test", "/web");

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    /** A configuration, when it was applied, and which instances may answer each route under it. */
    private record Applied(long startNanos, long endNanos, Map<String, Set<String>> valid) {
    }

    @Test
    void noRequestOrConnectionFailsAndEveryAnswerComesFromAValidUpstream() throws Exception {
        List<WhoAmI> web = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            web.add(lb.whoami("u" + i));
        }
        List<RawServer> tcp = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            tcp.add(lb.closeAfter(RawServer.greeter("g" + i)));
        }
        int tcpPort = LbProcess.freePort();
        Random random = new Random(42);
        ConfigWatcher watcher = new ConfigWatcher(lb.runtime());
        List<Applied> history = new CopyOnWriteArrayList<>();
        apply(watcher, history, new Generator(random, web, tcp, tcpPort).next(0));
        int httpPort = lb.httpPort();

        Generator generator = new Generator(random, web, tcp, tcpPort);
        SteadyLoad load = SteadyLoad.start(new SteadyLoad.Target(httpPort, List.of(APP, WEB), WEB, tcpPort));
        try (load) {
            load.awaitMore(1);
            for (int i = 1; i <= CHANGES; i++) {
                apply(watcher, history, generator.next(i));
                Thread.sleep(random.nextInt(8)); // let exchanges run across the change; pacing, not synchronisation
            }
            load.awaitMore(1); // every kind still served after the last change
        }

        assertThat(watcher.generation()).isEqualTo(CHANGES + 1);
        assertThat(load.failures()).isEmpty();
        for (SteadyLoad.Answer a : load.answers()) {
            assertThat(wasValid(history, a))
                    .as("%s: %s answered, so it must have served that route while the exchange was set up", a,
                            a.instance())
                    .isTrue();
        }
        for (SteadyLoad.Kind kind : SteadyLoad.Kind.values()) {
            assertThat(load.count(kind)).as(kind.toString()).isGreaterThanOrEqualTo(2);
        }
    }

    private static void apply(ConfigWatcher watcher, List<Applied> history, Config c) {
        long before = System.nanoTime();
        assertThat(watcher.offer(c.config())).isEmpty();
        history.add(new Applied(before, System.nanoTime(), c.valid()));
    }

    /**
     * The instance was valid for the answer's route in a configuration current at some moment between the start of
     * the exchange and its answer. A configuration is current from the start of its apply until the end of the
     * next one's.
     */
    private static boolean wasValid(List<Applied> history, SteadyLoad.Answer answer) {
        String route = answer.route() == null ? "tcp" : answer.route().path();
        for (int i = 0; i < history.size(); i++) {
            Applied a = history.get(i);
            long until = i + 1 < history.size() ? history.get(i + 1).endNanos() : Long.MAX_VALUE;
            boolean overlaps = a.startNanos() <= answer.answeredNanos() && until >= answer.startNanos();
            if (overlaps && a.valid().get(route).contains(answer.instance())) {
                return true;
            }
        }
        return false;
    }

    private record Config(LbConfig config, Map<String, Set<String>> valid) {
    }

    /**
     * Random configurations that always serve the load's routes, by services whose names, hosts, paths, upstreams
     * and balance change, beside extra HTTP and TCP services that come and go.
     */
    private static final class Generator {
        private final Random random;
        private final List<WhoAmI> web;
        private final List<RawServer> tcp;
        private final int tcpPort;

        Generator(Random random, List<WhoAmI> web, List<RawServer> tcp, int tcpPort) {
            this.random = random;
            this.web = web;
            this.tcp = tcp;
            this.tcpPort = tcpPort;
        }

        Config next(int change) {
            Map<String, Set<String>> valid = new HashMap<>();
            List<HttpService> http = new ArrayList<>();
            // "/web" for any host: path-only, renamed now and then (one service removed, another added).
            Set<String> webNames = new HashSet<>();
            List<String> webPaths = new ArrayList<>(List.of("/web"));
            if (random.nextBoolean()) {
                webPaths.add("/w" + random.nextInt(3));
            }
            http.add(service(change / 20 % 2 == 0 ? "web" : "web-v2", List.of(), webPaths, webNames));
            valid.put(WEB.path(), webNames);
            // app.test: by host only, or by host and path, with other hosts that come and go.
            Set<String> appNames = new HashSet<>();
            List<String> hosts = new ArrayList<>(List.of(APP.host()));
            if (random.nextBoolean()) {
                hosts.add("*.app" + random.nextInt(3) + ".test");
            }
            http.add(service("app", hosts, random.nextBoolean() ? List.of() : List.of(APP.path()), appNames));
            valid.put(APP.path(), appNames);
            for (int e = random.nextInt(5); e > 0; e--) {
                http.add(service("extra" + e, List.of("e" + e + ".test"),
                        random.nextBoolean() ? List.of() : List.of("/e" + random.nextInt(3)), new HashSet<>()));
            }
            http.sort(Comparator.comparing(HttpService::name));

            // The load's TCP service on a fixed port, renamed now and then, and another that comes and goes.
            List<Upstream> dbUpstreams = new ArrayList<>();
            Set<String> dbNames = new HashSet<>();
            for (int i : members(tcp.size())) {
                dbUpstreams.add(new Upstream("127.0.0.1", tcp.get(i).port()));
                dbNames.add("g" + i);
            }
            valid.put("tcp", dbNames);
            List<TcpService> tcpServices = new ArrayList<>();
            tcpServices.add(new TcpService(change / 30 % 2 == 0 ? "db" : "db-v2", balance(), tcpPort, dbUpstreams,
                    Timeouts.DEFAULTS));
            if (random.nextInt(3) == 0) {
                tcpServices.add(ProxyFixture.tcp("cache", balance(),
                        List.of(new Upstream("127.0.0.1", tcp.get(random.nextInt(tcp.size())).port()))));
            }
            tcpServices.sort(Comparator.comparing(TcpService::name));
            return new Config(new LbConfig(Optional.of(0), http, tcpServices, List.of()), valid);
        }

        /** A service on a random non-empty subset of the WhoAmI instances, whose names go to {@code names}. */
        private HttpService service(String name, List<String> hosts, List<String> paths, Set<String> names) {
            List<Upstream> ups = new ArrayList<>();
            for (int i : members(web.size())) {
                ups.add(ProxyFixture.at(web.get(i)));
                names.add(web.get(i).name());
            }
            return new HttpService(name, balance(), hosts, paths, random.nextBoolean(), false, ups,
                    Timeouts.DEFAULTS, HeaderRules.NONE);
        }

        private Set<Integer> members(int of) {
            Set<Integer> members = new HashSet<>();
            while (members.isEmpty()) {
                for (int i = 0; i < of; i++) {
                    if (random.nextInt(3) == 0) {
                        members.add(i);
                    }
                }
            }
            return members;
        }

        private Balance balance() {
            return BALANCES[random.nextInt(BALANCES.length)];
        }
    }

}
