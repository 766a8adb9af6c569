package io.kontena.lb.admin;

import java.util.List;
import java.util.Map;

/**
 * The statistics page: the admin API's view ({@link ConfigView}) as one HTML page for a browser, as HAProxy's stats
 * page was Kontena's: each service with its routes and each upstream's state and counters, the listeners, the
 * certificates with their expiry, and what was rejected. Plain HTML that reloads itself every
 * {@value #REFRESH_SECONDS} s; everything taken from the configuration is escaped, as problems quote what users wrote.
 */
final class StatsPage {
    static final int REFRESH_SECONDS = 10;

    private final StringBuilder html = new StringBuilder(4096);

    private StatsPage() {
    }

    /** @param view as {@link ConfigView#of} makes it */
    static String html(Map<String, Object> view) {
        return new StatsPage().render(view);
    }

    private String render(Map<String, Object> view) {
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS).append("\">")
                .append("<title>kontena-lb statistics</title><style>")
                .append("body{font:14px sans-serif;margin:1em}table{border-collapse:collapse;margin:0 0 1.5em}")
                .append("th,td{border:1px solid #bbb;padding:2px 8px;text-align:left}th{background:#eee}")
                .append(".down{background:#f4c7c3}.up{background:#d9ead3}.warn{background:#fce8b2}")
                .append("</style></head><body>\n");
        html.append("<h1>kontena-lb statistics</h1>\n<p>configuration generation <b id=\"generation\">")
                .append(escape(view.get("generation"))).append("</b>; client connections <b id=\"connections\">")
                .append(escape(map(view.get("connections")).get("open"))).append("</b> of at most ")
                .append(escape(map(view.get("connections")).get("max"))).append("</p>\n");

        html.append("<h2>Listeners</h2>\n<table id=\"listeners\"><tr><th>listener</th><th>port</th></tr>\n");
        map(view.get("listeners")).forEach((name, port) -> row(name, port));
        html.append("</table>\n");

        html.append("<h2>HTTP services</h2>\n");
        services(list(view.get("http")), "hosts / paths");
        html.append("<h2>TCP services</h2>\n");
        services(list(view.get("tcp")), "port");

        if (view.get("https") != null) {
            html.append("<h2>Certificates</h2>\n<table id=\"certificates\"><tr><th>origin</th><th>names</th>")
                    .append("<th>default</th><th>not after</th><th>days left</th><th>status</th></tr>\n");
            for (Object c : list(map(view.get("https")).get("certificates"))) {
                Map<String, Object> cert = map(c);
                html.append("<tr class=\"").append(cert.get("status").equals("valid") ? "up" : "warn").append("\">");
                cells(cert.get("origin"), String.join(", ", strings(cert.get("names"))), cert.get("default"),
                        cert.get("notAfter"), cert.get("daysLeft"), cert.get("status"));
                html.append("</tr>\n");
            }
            html.append("</table>\n");
        }

        List<Object> rejected = list(view.get("rejected"));
        html.append("<h2>Rejected</h2>\n");
        if (rejected.isEmpty()) {
            html.append("<p id=\"rejected\">nothing: every service is served as configured</p>\n");
        } else {
            html.append("<table id=\"rejected\"><tr><th>service</th><th>key</th><th>value</th><th>problem</th></tr>\n");
            for (Object p : rejected) {
                Map<String, Object> problem = map(p);
                html.append("<tr class=\"down\">");
                cells(problem.get("service"), problem.get("key"), problem.get("value"), problem.get("message"));
                html.append("</tr>\n");
            }
            html.append("</table>\n");
        }
        return html.append("</body></html>\n").toString();
    }

    /** One table per kind: a row per upstream, the service's name, balance and routes on its first. */
    private void services(List<Object> services, String routes) {
        if (services.isEmpty()) {
            html.append("<p>none</p>\n");
            return;
        }
        html.append("<table class=\"services\"><tr><th>service</th><th>balance</th><th>").append(routes)
                .append("</th><th>health check</th><th>upstream</th><th>state</th><th>active</th><th>requests</th><th>failures</th>")
                .append("</tr>\n");
        for (Object s : services) {
            Map<String, Object> service = map(s);
            List<Object> states = list(service.get("upstreamStates"));
            String where = service.containsKey("port") ? String.valueOf(service.get("port"))
                    : String.join(", ", strings(service.get("virtualHosts"))) + " "
                    + String.join(", ", strings(service.get("virtualPaths")));
            int rows = Math.max(1, states.size());
            html.append("<tr><td rowspan=\"").append(rows).append("\" class=\"service\">")
                    .append(escape(service.get("name"))).append("</td><td rowspan=\"").append(rows).append("\">")
                    .append(escape(service.get("balance"))).append("</td><td rowspan=\"").append(rows).append("\">")
                    .append(escape(where.trim())).append("</td><td rowspan=\"").append(rows).append("\">")
                    .append(escape(service.getOrDefault("healthCheck", "none"))).append("</td>");
            if (states.isEmpty()) {
                html.append("<td colspan=\"5\" class=\"down\">no upstream: requests get 503</td></tr>\n");
                continue;
            }
            for (int i = 0; i < states.size(); i++) {
                Map<String, Object> state = map(states.get(i));
                if (i > 0) {
                    html.append("<tr>");
                }
                boolean healthy = Boolean.TRUE.equals(state.get("healthy"));
                html.append("<td>").append(escape(state.get("upstream"))).append("</td><td class=\"")
                        .append(healthy ? "up" : "down").append("\">").append(healthy ? "UP" : "DOWN").append("</td>");
                cells(state.get("active"), state.get("requests"), state.get("failures"));
                html.append("</tr>\n");
            }
        }
        html.append("</table>\n");
    }

    private void row(Object... values) {
        html.append("<tr>");
        cells(values);
        html.append("</tr>\n");
    }

    private void cells(Object... values) {
        for (Object v : values) {
            html.append("<td>").append(escape(v)).append("</td>");
        }
    }

    static String escape(Object value) {
        String s = String.valueOf(value);
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object o) {
        return o == null ? List.of() : (List<String>) o;
    }
}
