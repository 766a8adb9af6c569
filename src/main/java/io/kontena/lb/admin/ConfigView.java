package io.kontena.lb.admin;

import io.kontena.lb.balance.EndpointState;
import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.HealthCheck;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.proxy.tls.CertificateExpiry;
import io.kontena.lb.proxy.tls.DefaultCertificate;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The applied configuration as the admin API shows it. */
public final class ConfigView {
    private ConfigView() {
    }

    /**
     * @param problems what the latest snapshot rejected (those services keep their last good version, if any)
     * @param ports    the ports actually bound, by listener ("http", or a TCP service's name)
     * @param states   what each service's upstreams are doing, by service
     * @param open     client connections open now
     * @param max      client connections held at once, at most
     */
    public static Map<String, Object> of(long generation, LbConfig config, List<Problem> problems,
                                         Map<String, Integer> ports, Map<String, List<EndpointState>> states,
                                         int open, int max) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("generation", generation);
        view.put("listeners", ports);
        Map<String, Object> connections = new LinkedHashMap<>();
        connections.put("open", open);
        connections.put("max", max);
        view.put("connections", connections);
        view.put("http", config.http().stream()
                .map(s -> withStates(http(s), s.healthCheck(), states.getOrDefault(s.name(), List.of()))).toList());
        view.put("tcp", config.tcp().stream()
                .map(s -> withStates(tcp(s), s.healthCheck(), states.getOrDefault(s.name(), List.of()))).toList());
        config.https().ifPresent(h -> view.put("https", https(h, Instant.now())));
        view.put("rejected", problems.stream().map(ConfigView::problem).toList());
        return view;
    }

    /**
     * The certificates with their expiry as of now (a certificate comes due while nothing changes), and the
     * warnings noticed when they were loaded.
     */
    static Map<String, Object> https(Https h, Instant now) {
        Optional<Certificate> fallback = DefaultCertificate.choose(h.certificates(), h.settings().defaultCertificate());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("port", h.port());
        m.put("http2", h.settings().http2());
        m.put("ciphers", h.settings().ciphers().isEmpty() ? "default" : String.join(":", h.settings().ciphers()));
        m.put("certificates", h.certificates().stream().map(c -> {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("origin", c.origin());
            cm.put("names", c.dnsNames());
            cm.put("default", fallback.map(d -> d == c).orElse(false));
            cm.put("notAfter", c.notAfter().toString());
            cm.put("daysLeft", CertificateExpiry.daysLeft(c.notAfter(), now));
            cm.put("status", CertificateExpiry.status(c.notAfter(), now).name().toLowerCase(Locale.ROOT));
            return cm;
        }).toList());
        m.put("warnings", h.warnings().stream().map(ConfigView::problem).toList());
        return m;
    }

    private static Map<String, Object> http(HttpService s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("balance", balance(s.balance()));
        m.put("virtualHosts", s.virtualHosts());
        m.put("virtualPaths", s.virtualPaths());
        m.put("keepVirtualPath", s.keepVirtualPath());
        m.put("defaultService", s.defaultService());
        m.put("upstreams", upstreams(s.upstreams()));
        return m;
    }

    private static Map<String, Object> tcp(TcpService s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("balance", balance(s.balance()));
        m.put("port", s.port());
        m.put("tls", s.terminateTls() ? "terminate" : "passthrough");
        m.put("upstreams", upstreams(s.upstreams()));
        return m;
    }

    /**
     * What the service's upstreams are doing; for a checked service also its check, and which of its upstreams the
     * check took out of rotation.
     */
    private static Map<String, Object> withStates(Map<String, Object> service, Optional<HealthCheck> check,
                                                  List<EndpointState> states) {
        check.ifPresent(c -> {
            service.put("healthCheck", c.toString());
            service.put("down", states.stream().filter(e -> !e.healthy()).map(e -> e.upstream().toString()).toList());
        });
        service.put("upstreamStates", states.stream().map(e -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("upstream", e.upstream().toString());
            m.put("healthy", e.healthy());
            m.put("active", e.active());
            m.put("requests", e.requests());
            m.put("failures", e.failures());
            return m;
        }).toList());
        return service;
    }

    private static Map<String, Object> problem(Problem p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("service", p.subject());
        m.put("key", p.key());
        m.put("value", p.value());
        m.put("message", p.message());
        return m;
    }

    private static List<String> upstreams(List<Upstream> ups) {
        return ups.stream().map(Upstream::toString).toList();
    }

    public static String balance(Balance b) {
        return switch (b) {
            case ROUND_ROBIN -> "roundrobin";
            case SOURCE -> "source";
            case LEAST_CONN -> "leastconn";
        };
    }
}
