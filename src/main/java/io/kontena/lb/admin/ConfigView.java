package io.kontena.lb.admin;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Upstream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The applied configuration as the admin API shows it. */
public final class ConfigView {
    private ConfigView() {
    }

    /**
     * @param problems what the latest snapshot rejected (those services keep their last good version, if any)
     * @param ports    the ports actually bound, by listener ("http", or a TCP service's name)
     */
    public static Map<String, Object> of(long generation, LbConfig config, List<Problem> problems,
                                         Map<String, Integer> ports) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("generation", generation);
        view.put("listeners", ports);
        view.put("http", config.http().stream().map(ConfigView::http).toList());
        view.put("tcp", config.tcp().stream().map(ConfigView::tcp).toList());
        view.put("rejected", problems.stream().map(ConfigView::problem).toList());
        return view;
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
