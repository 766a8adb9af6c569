package io.kontena.lb.kontena;

import io.kontena.lb.config.HealthCheck;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A service's {@code health_check:} as Kontena's stacks wrote it ({@code protocol: http} with a {@code uri}, else a
 * TCP connect check; {@code port} checks another port), read into a {@link HealthCheck}; each bad field is a problem.
 * {@code interval} and {@code timeout} are seconds, or a time with a unit; {@code initial_delay}, which told Kontena
 * how long a new container may take to start, is read and left alone: an upstream is in rotation until its checks
 * fail.
 */
final class HealthCheckSettings {
    static final String FIELD = "health_check";
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    /** Checks more often than this would keep the proxy's event loops busy with them. */
    private static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(10);
    private static final Duration MAX = Duration.ofHours(1);
    private static final List<String> FIELDS = List.of("protocol", "uri", "port", "interval", "timeout",
            "initial_delay");

    private HealthCheckSettings() {
    }

    static Optional<HealthCheck> read(String service, Map<String, String> fields, Problems problems) {
        if (fields.isEmpty()) {
            return Optional.empty();
        }
        int before = problems.count();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            if (!FIELDS.contains(f.getKey())) {
                problems.add(service, FIELD + "." + f.getKey(), f.getValue(), "unknown field; the fields of a health "
                        + "check are " + String.join(", ", FIELDS) + Suggestions.closest(f.getKey(), FIELDS)
                        .map(s -> "; did you mean " + s + "?").orElse(""));
            }
        }
        String uri = fields.getOrDefault("uri", "").trim();
        String protocol = fields.getOrDefault("protocol", uri.isEmpty() ? "tcp" : "http").trim().toLowerCase(Locale.ROOT);
        if (!protocol.equals("http") && !protocol.equals("tcp")) {
            problems.add(service, FIELD + ".protocol", fields.get("protocol"), "expected http (a GET of uri, healthy "
                    + "on 2xx and 3xx) or tcp (a connection)");
        } else if (protocol.equals("http") && !uri.startsWith("/")) {
            problems.add(service, FIELD + ".uri", uri, "an HTTP check needs the path it asks for, starting with '/', "
                    + "for example /health");
        } else if (protocol.equals("http") && uri.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            problems.add(service, FIELD + ".uri", uri, "a path has no spaces or control characters");
        } else if (protocol.equals("tcp") && !uri.isEmpty()) {
            problems.add(service, FIELD + ".uri", uri, "a TCP check makes a connection only; give protocol: http "
                    + "to ask for a path");
        }
        int port = port(service, fields.get("port"), problems);
        Duration interval = time(service, "interval", fields.get("interval"), DEFAULT_INTERVAL, MIN_INTERVAL,
                problems);
        Duration timeout = time(service, "timeout", fields.get("timeout"), DEFAULT_TIMEOUT, MIN_TIMEOUT, problems);
        if (problems.count() != before) {
            return Optional.empty();
        }
        return Optional.of(new HealthCheck(protocol.equals("http") ? uri : "", port, interval, timeout));
    }

    private static int port(String service, String given, Problems problems) {
        if (given == null || given.isBlank()) {
            return 0;
        }
        try {
            int port = Integer.parseInt(given.trim());
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(service, FIELD + ".port", given, "expected a port from 1 to 65535 (leave it out to check each "
                + "upstream's own port)");
        return 0;
    }

    /** Seconds (as Kontena wrote them), or a time with a unit (500ms, 10s), from {@code min} to an hour. */
    private static Duration time(String service, String name, String given, Duration fallback, Duration min,
                                 Problems problems) {
        if (given == null || given.isBlank()) {
            return fallback;
        }
        String text = given.trim();
        Duration time;
        try {
            time = text.chars().allMatch(Character::isDigit) ? Duration.ofSeconds(Long.parseLong(text))
                    : text.matches("0+[a-z]*") ? Duration.ZERO : HaproxyTime.parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(service, FIELD + "." + name, given, "expected seconds, or a time with a unit: "
                    + e.getMessage());
            return fallback;
        }
        if (time.compareTo(min) < 0 || time.compareTo(MAX) > 0) {
            problems.add(service, FIELD + "." + name, given, "expected from " + min.toMillis() + " ms to an hour");
            return fallback;
        }
        return time;
    }
}
