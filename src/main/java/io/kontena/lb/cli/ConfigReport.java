package io.kontena.lb.cli;

import io.kontena.lb.admin.ConfigView;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Upstream;
import java.io.PrintWriter;
import java.util.List;
import java.util.stream.Collectors;

/** The resolved configuration as an operator reads it. */
final class ConfigReport {
    private ConfigReport() {
    }

    static void print(LbConfig config, PrintWriter out) {
        out.println("listeners:");
        config.httpPort().ifPresent(p -> out.printf("  http  port %d%n", p));
        for (TcpService s : config.tcp()) {
            out.printf("  tcp   port %d  -> %s%n", s.port(), s.name());
        }
        if (config.httpPort().isEmpty() && config.tcp().isEmpty()) {
            out.println("  (none)");
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
            }
        }
        if (!config.tcp().isEmpty()) {
            out.println("tcp services:");
            for (TcpService s : config.tcp()) {
                out.printf("  %s%n    port:      %d%n    balance:   %s%n    upstreams: %s%n",
                        s.name(), s.port(), ConfigView.balance(s.balance()), upstreams(s.upstreams()));
            }
        }
        if (!config.problems().isEmpty()) {
            out.println("problems:");
            for (Problem p : config.problems()) {
                out.println("  - " + p);
            }
        }
        out.flush();
    }

    private static String list(List<String> items) {
        return items.isEmpty() ? "-" : String.join(", ", items);
    }

    private static String upstreams(List<Upstream> ups) {
        return ups.isEmpty() ? "(none: requests get 503)" : ups.stream().map(Upstream::toString).collect(Collectors.joining(", "));
    }
}
