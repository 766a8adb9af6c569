package io.kontena.lb.kontena;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.BasicAuth;
import io.kontena.lb.config.StickyCookie;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Reads the KONTENA_LB_* variables of one balanced service; every bad value becomes a problem. */
final class ServiceVariables {
    static final String PREFIX = "KONTENA_LB_";
    static final String MODE = PREFIX + "MODE";
    static final String BALANCE = PREFIX + "BALANCE";
    static final String INTERNAL_PORT = PREFIX + "INTERNAL_PORT";
    static final String EXTERNAL_PORT = PREFIX + "EXTERNAL_PORT";
    static final String VIRTUAL_HOSTS = PREFIX + "VIRTUAL_HOSTS";
    static final String VIRTUAL_PATH = PREFIX + "VIRTUAL_PATH";
    static final String KEEP_VIRTUAL_PATH = PREFIX + "KEEP_VIRTUAL_PATH";
    static final String CUSTOM_SETTINGS = CustomSettings.VARIABLE;
    /** This project's addition: the service that answers requests no other service matches. */
    static final String DEFAULT_SERVICE = PREFIX + "DEFAULT_SERVICE";
    /** This project's addition: a TCP service's clients speak TLS to the load balancer ({@code terminate}). */
    static final String TLS = PREFIX + "TLS";
    static final String TLS_TERMINATE = "terminate";
    static final String TLS_PASSTHROUGH = "passthrough";
    static final String BASIC_AUTH = BasicAuthUsers.VARIABLE;
    static final String COOKIE = StickyCookies.VARIABLE;
    static final List<String> VALID = List.of(MODE, BALANCE, INTERNAL_PORT, EXTERNAL_PORT, VIRTUAL_HOSTS,
            VIRTUAL_PATH, KEEP_VIRTUAL_PATH, CUSTOM_SETTINGS, DEFAULT_SERVICE, TLS, BASIC_AUTH, COOKIE);
    private static final List<String> HTTP_ONLY = List.of(VIRTUAL_HOSTS, VIRTUAL_PATH, KEEP_VIRTUAL_PATH,
            DEFAULT_SERVICE, BASIC_AUTH, COOKIE);
    private static final Set<String> LB_ONLY = Set.of(PREFIX + "HEALTH_URI", PREFIX + "SSL_CIPHERS",
            PREFIX + "ACCEPT_PROXY", PREFIX + "HTTP2", PREFIX + "GLOBAL_SETTINGS");
    static final int DEFAULT_INTERNAL_PORT = 80;
    static final int DEFAULT_EXTERNAL_PORT = 5000;

    private final String service;
    private final Map<String, String> env;
    private final Problems problems;
    /** The load balancer's own custom settings, which every service starts from. */
    private final CustomSettings.Result defaults;

    private ServiceVariables(String service, Map<String, String> env, CustomSettings.Result defaults,
                             Problems problems) {
        this.service = service;
        this.env = env;
        this.defaults = defaults;
        this.problems = problems;
    }

    /** Whether the environment sets any KONTENA_LB_* variable (in any letter case, to catch mistakes). */
    static boolean mentionsLb(Map<String, String> env) {
        for (String name : env.keySet()) {
            if (isLbName(name)) {
                return true;
            }
        }
        return false;
    }

    static ServiceSettings read(String service, Map<String, String> env, CustomSettings.Result defaults,
                                Problems problems) {
        return new ServiceVariables(service, env, defaults, problems).read();
    }

    private ServiceSettings read() {
        Optional<Mode> mode = mode();
        Balance balance = balance();
        int internalPort = port(INTERNAL_PORT, DEFAULT_INTERNAL_PORT);
        int externalPort = 0;
        List<String> hosts = List.of();
        List<String> paths = List.of();
        boolean keepPath = false;
        boolean defaultService = false;
        boolean terminateTls = false;
        Optional<BasicAuth> basicAuth = Optional.empty();
        Optional<StickyCookie> stickyCookie = Optional.empty();
        if (mode.equals(Optional.of(Mode.TCP))) {
            externalPort = port(EXTERNAL_PORT, DEFAULT_EXTERNAL_PORT);
            terminateTls = terminateTls();
            HTTP_ONLY.forEach(name -> wrongMode(name, "http",
                    "a TCP service is reached on its own port, " + EXTERNAL_PORT));
        } else if (mode.isPresent()) {
            wrongMode(EXTERNAL_PORT, "tcp", "an HTTP service is served on the load balancer's HTTP port and "
                    + "chosen by " + VIRTUAL_HOSTS + " and " + VIRTUAL_PATH);
            wrongMode(TLS, "tcp", "HTTP services are served over TLS on the load balancer's HTTPS port (443) "
                    + "whenever it has certificates");
            hosts = list(VIRTUAL_HOSTS, HostNames::virtualHost);
            paths = list(VIRTUAL_PATH, VirtualPaths::prefix);
            keepPath = bool(KEEP_VIRTUAL_PATH);
            defaultService = bool(DEFAULT_SERVICE);
            if (env.containsKey(BASIC_AUTH)) {
                basicAuth = BasicAuthUsers.read(service, env.get(BASIC_AUTH), problems);
            }
            if (env.containsKey(COOKIE)) {
                stickyCookie = StickyCookies.read(service, env.get(COOKIE), problems);
            }
            if (hosts.isEmpty() && paths.isEmpty()) {
                paths = List.of("/");
            }
        }
        boolean http = !mode.equals(Optional.of(Mode.TCP));
        CustomSettings.Result custom = env.containsKey(CUSTOM_SETTINGS)
                ? CustomSettings.parse(service, env.get(CUSTOM_SETTINGS), http, defaults, problems)
                : CustomSettings.forService(defaults, http);
        unknownVariables();
        return new ServiceSettings(mode, custom.balance().orElse(balance), internalPort, externalPort,
                hosts, paths, keepPath, defaultService, custom.timeouts(), custom.headers(), terminateTls, basicAuth,
                stickyCookie);
    }

    private boolean terminateTls() {
        String value = env.getOrDefault(TLS, TLS_PASSTHROUGH);
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case TLS_TERMINATE:
                return true;
            case TLS_PASSTHROUGH:
                return false;
            default:
                problems.add(service, TLS, value, "expected " + TLS_TERMINATE + " (clients speak TLS to the load "
                        + "balancer, which uses its own certificates) or " + TLS_PASSTHROUGH + " (bytes are relayed "
                        + "as they come, the default)");
                return false;
        }
    }

    private Optional<Mode> mode() {
        String value = env.getOrDefault(MODE, "http");
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "http":
                return Optional.of(Mode.HTTP);
            case "tcp":
                return Optional.of(Mode.TCP);
            default:
                problems.add(service, MODE, value, "unknown mode; expected http or tcp");
                return Optional.empty();
        }
    }

    private Balance balance() {
        String value = env.getOrDefault(BALANCE, "roundrobin");
        Optional<Balance> balance = BalanceNames.parse(value);
        if (balance.isEmpty()) {
            problems.add(service, BALANCE, value, "unknown balance; expected " + BalanceNames.VALID);
        }
        return balance.orElse(Balance.ROUND_ROBIN);
    }

    /** The port, or 0 after reporting a bad value. */
    private int port(String name, int fallback) {
        if (!env.containsKey(name)) {
            return fallback;
        }
        try {
            return Ports.parse(env.get(name));
        } catch (IllegalArgumentException e) {
            problems.add(service, name, env.get(name), "not a port; " + Ports.VALID);
            return 0;
        }
    }

    /** A comma list; each entry checked by the given function, which throws what is wrong with it. */
    private List<String> list(String name, UnaryOperator<String> entry) {
        Set<String> values = new LinkedHashSet<>();
        for (String item : env.getOrDefault(name, "").split(",")) {
            if (item.isBlank()) {
                continue;
            }
            try {
                values.add(entry.apply(item));
            } catch (IllegalArgumentException e) {
                problems.add(service, name, env.get(name), "'" + item.trim() + "': " + e.getMessage());
            }
        }
        return new ArrayList<>(values);
    }

    private boolean bool(String name) {
        String value = env.getOrDefault(name, "false");
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true":
                return true;
            case "false":
                return false;
            default:
                problems.add(service, name, value, "expected true or false");
                return false;
        }
    }

    private void wrongMode(String name, String mode, String why) {
        if (env.containsKey(name)) {
            problems.add(service, name, env.get(name), "applies only to " + MODE + "=" + mode + "; " + why);
        }
    }

    private void unknownVariables() {
        for (String name : env.keySet()) {
            if (!isLbName(name) || VALID.contains(name)) {
                continue;
            }
            String upper = name.toUpperCase(Locale.ROOT);
            String message;
            if (VALID.contains(upper)) {
                message = "variable names are case-sensitive; did you mean " + upper + "?";
            } else if (LB_ONLY.contains(upper)) {
                message = "a variable of the load balancer service itself, not of a balanced service; "
                        + "set it on the load balancer";
            } else {
                message = "unknown variable" + suggestion(upper).map(v -> "; did you mean " + v + "?").orElse(".")
                        + " Valid names: " + String.join(", ", VALID);
            }
            problems.add(service, name, env.get(name), message);
        }
    }

    // Compared without the common prefix, which would make every name look close to every other.
    private static Optional<String> suggestion(String upper) {
        List<String> suffixes = VALID.stream().map(v -> v.substring(PREFIX.length())).toList();
        return Suggestions.closest(upper.substring(PREFIX.length()), suffixes).map(s -> PREFIX + s);
    }

    private static boolean isLbName(String name) {
        return name.toUpperCase(Locale.ROOT).startsWith(PREFIX);
    }
}
