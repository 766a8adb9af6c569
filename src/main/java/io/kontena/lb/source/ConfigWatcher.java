package io.kontena.lb.source;

import io.kontena.lb.config.Frontend;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.kontena.LoadBalancerVariables;
import io.kontena.lb.proxy.ProxyRuntime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
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
    private List<Problem> certificateProblems = List.of();

    public ConfigWatcher(ProxyRuntime runtime) {
        this.runtime = runtime;
    }

    /** A source could not produce a snapshot (unreadable or unparsable file): keep serving what runs. */
    public synchronized void rejected(String why) {
        log.error("configuration change rejected, the previous one keeps serving: {}", why);
        lastProblems = List.of(new Problem("configuration", "", "", why));
    }

    /**
     * Applies the snapshot when it changes what is served. A port that cannot be opened rejects the service that
     * asked for it like any other problem, so its last good version keeps serving, and it is tried again with the
     * next snapshot; but the first configuration applies whole or not at all, so that a load balancer never starts
     * without one of its ports.
     *
     * @return the listeners that could not be opened
     */
    public synchronized List<Problem> offer(LbConfig snapshot) {
        List<Problem> unavailable = new ArrayList<>();
        LbConfig next = keepLastGood(snapshot, unavailable);
        while (!next.equals(applied)) {
            try {
                certificateProblems = runtime.apply(next);
                applied = next;
                generation++;
                log.info("configuration generation {} applied: {} http and {} tcp service(s)", generation,
                        next.http().size(), next.tcp().size());
            } catch (ProxyRuntime.PortsUnavailable e) {
                boolean again = unavailable.containsAll(e.problems());
                e.problems().stream().filter(p -> !unavailable.contains(p)).forEach(unavailable::add);
                next = keepLastGood(snapshot, unavailable);
                if (generation == 0 || again) {
                    report(generation == 0 ? snapshot : next); // a failed start says what failed itself
                    return unavailable;
                }
            }
        }
        report(next);
        return unavailable;
    }

    private void report(LbConfig next) {
        List<Problem> problems = new ArrayList<>(next.problems());
        problems.addAll(certificateProblems);
        if (!problems.equals(lastProblems)) {
            for (Problem p : problems) {
                log.warn("rejected: {}", p);
            }
        }
        lastProblems = List.copyOf(problems);
        List<Problem> warnings = next.https().isPresent() ? next.https().get().warnings() : List.of();
        if (!warnings.equals(lastWarnings)) {
            for (Problem w : warnings) {
                log.warn("certificate: {}", w);
            }
        }
        lastWarnings = warnings;
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

    /**
     * The snapshot with the last good version of each service it rejects, and without what needs a port in
     * {@code unavailable}: a TCP service falls back to its last good version, HTTP and HTTPS to their last port.
     */
    private LbConfig keepLastGood(LbConfig snapshot, List<Problem> unavailable) {
        // loops rather than streams and lambdas: this runs on the start path, where the JVM spins a class for
        // each lambda on its first use
        Set<String> rejected = new HashSet<>();
        for (Problem p : snapshot.problems()) {
            rejected.add(p.subject());
        }
        List<HttpService> http = new ArrayList<>(snapshot.http());
        Set<String> httpNames = new HashSet<>();
        for (HttpService s : http) {
            httpNames.add(s.name());
        }
        for (HttpService old : applied.http()) {
            if (rejected.contains(old.name()) && httpNames.add(old.name())) {
                http.add(old);
            }
        }
        List<TcpService> tcp = new ArrayList<>();
        Set<String> tcpNames = new HashSet<>();
        Set<Integer> ports = new HashSet<>();
        for (TcpService s : snapshot.tcp()) {
            if (!unavailable(unavailable, s.name(), s.port())) {
                tcp.add(s);
                tcpNames.add(s.name());
                ports.add(s.port());
            }
        }
        if (snapshot.httpPort().isPresent()) {
            ports.add(snapshot.httpPort().get());
        }
        for (TcpService old : applied.tcp()) {
            boolean failed = rejected.contains(old.name()) || hasSubject(unavailable, old.name());
            if (failed && !tcpNames.contains(old.name())
                    && (old.port() == 0 || !ports.contains(old.port()))) {
                tcp.add(old);
                tcpNames.add(old.name());
            }
        }
        Optional<Integer> httpPort = snapshot.httpPort();
        if (httpPort.isPresent() && unavailable(unavailable, "http", httpPort.get())) {
            httpPort = applied.httpPort();
        }
        Optional<Https> https = LastGoodCertificates.keep(applied.https(), snapshot);
        if (https.isPresent() && unavailable(unavailable, "https", https.get().port())) {
            Https h = https.get();
            https = applied.https().map(old -> new Https(old.port(), h.certificates(), h.settings(), h.warnings()));
        }
        Frontend frontend = keepStatsPassword(snapshot);
        if (unavailable.isEmpty() && http.size() == snapshot.http().size() && tcp.size() == snapshot.tcp().size()
                && https.equals(snapshot.https()) && frontend == snapshot.frontend()) {
            return snapshot;
        }
        http.sort(java.util.Comparator.comparing(HttpService::name));
        tcp.sort(java.util.Comparator.comparing(TcpService::name));
        // A kept HTTP service still needs the HTTP listener even when no valid one asks for it any more.
        if (httpPort.isEmpty() && !http.isEmpty()) {
            httpPort = applied.httpPort();
        }
        List<Problem> problems = new ArrayList<>(snapshot.problems());
        problems.addAll(unavailable);
        return new LbConfig(httpPort, http, tcp, problems, https, frontend);
    }

    /**
     * A statistics password that was asked for but could not be had (an empty value, a vault secret gone) is never
     * no password: the last good one stays, and without one nobody may log in until it is fixed.
     */
    private Frontend keepStatsPassword(LbConfig snapshot) {
        Frontend frontend = snapshot.frontend();
        if (frontend.statsPassword().isPresent()) {
            return frontend;
        }
        for (Problem p : snapshot.problems()) {
            if (p.key().equals(LoadBalancerVariables.STATS_PASSWORD)) {
                String kept = applied.frontend().statsPassword().orElseGet(() -> UUID.randomUUID().toString());
                return new Frontend(frontend.answers(), frontend.acceptProxy(), Optional.of(kept));
            }
        }
        return frontend;
    }

    private static boolean unavailable(List<Problem> unavailable, String subject, int port) {
        for (Problem p : unavailable) {
            if (p.subject().equals(subject) && p.value().equals(Integer.toString(port))) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasSubject(List<Problem> problems, String subject) {
        for (Problem p : problems) {
            if (p.subject().equals(subject)) {
                return true;
            }
        }
        return false;
    }
}
