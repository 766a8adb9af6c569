package io.kontena.lb.source;

import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.proxy.ProxyRuntime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives whole snapshots from a source and applies those that change something. A service that a new
 * snapshot rejects keeps its last good version live (its problems are still reported), and a snapshot that
 * cannot be read at all changes nothing.
 */
public final class ConfigWatcher {
    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

    private final ProxyRuntime runtime;
    private LbConfig applied = LbConfig.EMPTY;
    private long generation;
    private List<Problem> lastProblems = List.of();
    private List<Problem> lastWarnings = List.of();

    public ConfigWatcher(ProxyRuntime runtime) {
        this.runtime = runtime;
    }

    /** A source could not produce a snapshot (unreadable or unparsable file): keep serving what runs. */
    public synchronized void rejected(String why) {
        log.error("configuration change rejected, the previous one keeps serving: {}", why);
        lastProblems = List.of(new Problem("configuration", "", "", why));
    }

    /**
     * Applies the snapshot when it changes what is served.
     *
     * @return the listeners that could not be opened (already logged)
     */
    public synchronized List<Problem> offer(LbConfig snapshot) {
        LbConfig next = keepLastGood(snapshot);
        if (!next.problems().equals(lastProblems)) {
            next.problems().forEach(p -> log.warn("rejected: {}", p));
        }
        lastProblems = next.problems();
        List<Problem> warnings = next.https().map(Https::warnings).orElse(List.of());
        if (!warnings.equals(lastWarnings)) {
            warnings.forEach(w -> log.warn("certificate: {}", w));
        }
        lastWarnings = warnings;
        if (next.equals(applied)) {
            return List.of();
        }
        List<Problem> failed = runtime.apply(next);
        failed.forEach(p -> log.error("{}", p.message()));
        applied = next;
        generation++;
        log.info("configuration generation {} applied: {} http and {} tcp service(s)", generation,
                next.http().size(), next.tcp().size());
        return failed;
    }

    public synchronized long generation() {
        return generation;
    }

    /** What the latest snapshot rejected, or why the latest change could not be read. */
    public synchronized List<Problem> problems() {
        return lastProblems;
    }

    public synchronized LbConfig applied() {
        return applied;
    }

    private LbConfig keepLastGood(LbConfig snapshot) {
        Set<String> rejected = new HashSet<>();
        snapshot.problems().forEach(p -> rejected.add(p.subject()));
        List<HttpService> http = new ArrayList<>(snapshot.http());
        for (HttpService old : applied.http()) {
            if (rejected.contains(old.name()) && !contains(http, old.name(), HttpService::name)) {
                http.add(old);
            }
        }
        Set<Integer> ports = new HashSet<>();
        snapshot.tcp().forEach(s -> ports.add(s.port()));
        snapshot.httpPort().ifPresent(ports::add);
        List<TcpService> tcp = new ArrayList<>(snapshot.tcp());
        for (TcpService old : applied.tcp()) {
            if (rejected.contains(old.name()) && !contains(tcp, old.name(), TcpService::name)
                    && (old.port() == 0 || !ports.contains(old.port()))) {
                tcp.add(old);
            }
        }
        Optional<Https> https = LastGoodCertificates.keep(applied.https(), snapshot);
        if (http.size() == snapshot.http().size() && tcp.size() == snapshot.tcp().size()
                && https.equals(snapshot.https())) {
            return snapshot;
        }
        http.sort(java.util.Comparator.comparing(HttpService::name));
        tcp.sort(java.util.Comparator.comparing(TcpService::name));
        // A kept HTTP service still needs the HTTP listener even when no valid one asks for it any more.
        Optional<Integer> httpPort = snapshot.httpPort().isPresent() || http.isEmpty()
                ? snapshot.httpPort() : applied.httpPort();
        return new LbConfig(httpPort, http, tcp, snapshot.problems(), https);
    }

    private static <T> boolean contains(List<T> list, String name, Function<T, String> nameOf) {
        return list.stream().anyMatch(s -> nameOf.apply(s).equals(name));
    }
}
