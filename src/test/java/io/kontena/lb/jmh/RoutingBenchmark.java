package io.kontena.lb.jmh;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.proxy.Route;
import io.kontena.lb.proxy.RoutingTable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Route lookup in a configuration of 10,000 services, each with an exact host and a wildcard, half of them with
 * deep path prefixes, plus path-only services and a default. Requests cycle over 4096 precomputed random hosts so
 * the table is read across its whole size, as with traffic spread over many virtual hosts.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RoutingBenchmark {
    static final int SERVICES = 10_000;
    static final int SAMPLES = 4096;
    static final String[] DEEP_PATHS = {"/api", "/api/v1/orders", "/api/v1/orders/items/details", "/static/assets"};

    RoutingTable<String> table;
    Map<String, HttpService> naive = new HashMap<>();
    String[] exactHosts = new String[SAMPLES];
    String[] deepPathHosts = new String[SAMPLES];
    String[] wildcardHosts = new String[SAMPLES];
    String[] unknownHosts = new String[SAMPLES];
    int next;

    @Setup
    public void setup() {
        List<HttpService> services = new ArrayList<>();
        for (int i = 0; i < SERVICES; i++) {
            List<String> paths = i % 2 == 0 ? List.of() : List.of(DEEP_PATHS);
            services.add(service("s" + i, List.of("host" + i + ".example.com", "*.tenant" + i + ".example.org"), paths));
        }
        services.add(service("deep", List.of(), List.of("/a/b/c/d/e/f/g", "/a/b/c", "/a")));
        services.add(service("root", List.of(), List.of("/")));
        table = RoutingTable.build(services, HttpService::name);
        for (HttpService s : services) {
            for (String h : s.virtualHosts()) {
                naive.put(h, s);
            }
        }

        SplittableRandom random = new SplittableRandom(42);
        for (int k = 0; k < SAMPLES; k++) {
            int even = random.nextInt(SERVICES / 2) * 2;
            int odd = even + 1;
            exactHosts[k] = "Host" + even + ".example.com:8080";
            deepPathHosts[k] = "host" + odd + ".example.com";
            wildcardHosts[k] = "app.eu.tenant" + random.nextInt(SERVICES) + ".example.org";
            unknownHosts[k] = "nobody" + k + ".example.net";
        }
    }

    static HttpService service(String name, List<String> hosts, List<String> paths) {
        return new HttpService(name, Balance.ROUND_ROBIN, hosts, paths, false, false, List.of(), Timeouts.DEFAULTS,
                HeaderRules.NONE);
    }

    private int index() {
        return next++ & (SAMPLES - 1);
    }

    /** Exact host, service without paths (tier 2 after an exact-key probe). */
    @Benchmark
    public Route<String> exactHost() {
        return table.route(exactHosts[index()], "/index.html");
    }

    /** Exact host whose service has deep prefixes; the longest one matches. */
    @Benchmark
    public Route<String> exactHostDeepPath() {
        return table.route(deepPathHosts[index()], "/api/v1/orders/items/details/42/history?page=2");
    }

    /** No exact key; the wildcard is found two labels down. */
    @Benchmark
    public Route<String> wildcardHost() {
        return table.route(wildcardHosts[index()], "/");
    }

    /** Unknown host, falls through the host tiers to the longest path-only prefix. */
    @Benchmark
    public Route<String> unknownHostDeepPath() {
        return table.route(unknownHosts[index()], "/a/b/c/d/e/f/g/h/i/j?x=1");
    }

    /** Absolute-form target with port and query. */
    @Benchmark
    public Route<String> absoluteForm() {
        return table.route(null, "http://host42.example.com:8080/index.html?q=1");
    }

    /** What the data plane sends upstream after a match: the prefix removed, the query kept. */
    @Benchmark
    public String forwardUri() {
        String uri = "/api/v1/orders/items/details/42/history?page=2";
        return table.route(deepPathHosts[index()], uri).forwardUri(uri);
    }

    /**
     * Baseline for comparison in the same run: what a straightforward lookup costs (cut the port, lower-case,
     * HashMap), exact hosts only, no wildcards or paths, two strings made per request.
     */
    @Benchmark
    public HttpService baselineHashMapExactHost() {
        String h = exactHosts[index()];
        int colon = h.indexOf(':');
        return naive.get((colon >= 0 ? h.substring(0, colon) : h).toLowerCase(Locale.ROOT));
    }
}
