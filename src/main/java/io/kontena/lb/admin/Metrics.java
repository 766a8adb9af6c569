package io.kontena.lb.admin;

import io.kontena.lb.balance.EndpointState;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/** The figures of the admin API in Prometheus' text format, for {@code GET /metrics}. */
public final class Metrics {
    private Metrics() {
    }

    /**
     * @param generation      configuration changes applied
     * @param rejected        problems of the latest change
     * @param openConnections client connections open now
     * @param maxConnections  client connections held at once, at most
     * @param states          each service's upstreams, by service
     */
    public static String text(long generation, int rejected, int openConnections, int maxConnections,
                              Map<String, List<EndpointState>> states) {
        StringBuilder out = new StringBuilder(512);
        gauge(out, "kontena_lb_config_generation", "Configuration changes applied since the start.", generation);
        gauge(out, "kontena_lb_config_rejected", "Problems of the latest configuration change.", rejected);
        gauge(out, "kontena_lb_open_connections", "Client connections open now.", openConnections);
        gauge(out, "kontena_lb_max_connections", "Client connections held at once, at most; more wait to be "
                + "accepted.", maxConnections);
        upstreams(out, "kontena_lb_upstream_requests_total", "counter",
                "Requests, tunnels and relays given to an upstream.", states, EndpointState::requests);
        upstreams(out, "kontena_lb_upstream_failures_total", "counter", "Connections to an upstream that failed.",
                states, EndpointState::failures);
        upstreams(out, "kontena_lb_upstream_active", "gauge", "Requests, tunnels and relays an upstream has now.",
                states, EndpointState::active);
        upstreams(out, "kontena_lb_upstream_healthy", "gauge",
                "1 while an upstream is in rotation as far as health checks go, else 0.", states, e -> e.healthy() ? 1 : 0);
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(value).append('\n');
    }

    private static void upstreams(StringBuilder out, String name, String type, String help,
                                  Map<String, List<EndpointState>> states, ToLongFunction<EndpointState> value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
        states.forEach((service, endpoints) -> endpoints.forEach(e -> out.append(name)
                .append("{service=\"").append(label(service)).append("\",upstream=\"")
                .append(label(e.upstream().toString())).append("\"} ").append(value.applyAsLong(e)).append('\n')));
    }

    /** A label value as the text format wants it: backslash, quote and line feed escaped. */
    private static String label(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
