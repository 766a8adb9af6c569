package io.kontena.lb.cli;

import io.kontena.lb.admin.ConfigView;
import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.proxy.tls.CertificateExpiry;
import io.kontena.lb.proxy.tls.DefaultCertificate;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** The resolved configuration as an operator reads it. */
final class ConfigReport {
    private ConfigReport() {
    }

    static void print(LbConfig config, PrintWriter out) {
        out.println("listeners:");
        config.httpPort().ifPresent(p -> out.printf("  http  port %d%n", p));
        config.https().ifPresent(h -> out.printf("  https port %d%s%n", h.port(), h.settings().http2() ? " (HTTP/2 and HTTP/1.1)" : " (HTTP/1.1)"));
        for (TcpService s : config.tcp()) {
            out.printf("  tcp   port %d  -> %s%s%n", s.port(), s.name(), s.terminateTls() ? " (TLS terminated)" : "");
        }
        if (config.httpPort().isEmpty() && config.tcp().isEmpty()) {
            out.println("  (none)");
        }
        if (config.frontend().acceptProxy()) {
            out.println("  (every listener expects the PROXY protocol)");
        }
        if (!config.frontend().answers().isEmpty()) {
            out.println("answered by the load balancer (200, any host):");
            config.frontend().answers().keySet().forEach(path -> out.printf("  %s%n", path));
        }
        if (!config.http().isEmpty()) {
            out.println("http services:");
            for (HttpService s : config.http()) {
                out.printf("  %s%s%n", s.name(), s.defaultService() ? " (default service)" : "");
                out.printf("    hosts:     %s%n", list(s.virtualHosts()));
                out.printf("    paths:     %s%s%n", list(s.virtualPaths()),
                        s.virtualPaths().isEmpty() || s.virtualPaths().equals(List.of("/")) ? "" : s.keepVirtualPath() ? " (kept)" : " (stripped)");
                out.printf("    balance:   %s%n", ConfigView.balance(s.balance()));
                out.printf("    upstreams: %s%n", upstreams(s.upstreams()));
                s.healthCheck().ifPresent(c -> out.printf("    checked:   %s%n", c));
            }
        }
        if (!config.tcp().isEmpty()) {
            out.println("tcp services:");
            for (TcpService s : config.tcp()) {
                out.printf("  %s%n    port:      %d%n    balance:   %s%n    upstreams: %s%n",
                        s.name(), s.port(), ConfigView.balance(s.balance()), upstreams(s.upstreams()));
                s.healthCheck().ifPresent(c -> out.printf("    checked:   %s%n", c));
            }
        }
        config.https().ifPresent(h -> certificates(h, Instant.now(), out));
        if (!config.problems().isEmpty()) {
            out.println("problems:");
            for (Problem p : config.problems()) {
                out.println("  - " + p);
            }
        }
        out.flush();
    }

    /** What validate can tell before serving: which certificate answers which names, and which need renewing. */
    private static void certificates(Https h, Instant now, PrintWriter out) {
        Optional<Certificate> fallback = DefaultCertificate.choose(h.certificates(), h.settings().defaultCertificate());
        out.println("certificates:");
        for (Certificate c : h.certificates()) {
            out.printf("  %s%s%n    names:     %s%n    expires:   %s (%d days, %s)%n", c.origin(),
                    fallback.map(d -> d == c).orElse(false) ? " (default)" : "", list(c.dnsNames()),
                    CertificateExpiry.day(c.notAfter()), CertificateExpiry.daysLeft(c.notAfter(), now),
                    CertificateExpiry.status(c.notAfter(), now).name().toLowerCase(Locale.ROOT));
        }
        if (!h.settings().ciphers().isEmpty()) {
            out.printf("  ciphers:   %s%n", String.join(":", h.settings().ciphers()));
        }
        if (!h.warnings().isEmpty()) {
            out.println("certificate warnings:");
            for (Problem p : h.warnings()) {
                out.println("  - " + p);
            }
        }
    }

    private static String list(List<String> items) {
        return items.isEmpty() ? "-" : String.join(", ", items);
    }

    private static String upstreams(List<Upstream> ups) {
        return ups.isEmpty() ? "(none: requests get 503)" : ups.stream().map(Upstream::toString).collect(Collectors.joining(", "));
    }
}
