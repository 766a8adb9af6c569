package io.kontena.lb.kontena;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The KONTENA_LB_* variables of the load balancer service itself. One that it does not act on is a problem
 * rather than silence: a health URI or PROXY protocol that is asked for and not served would fail in ways hard
 * to trace back to the variable.
 */
public final class LoadBalancerVariables {
    private static final String PREFIX = ServiceVariables.PREFIX;
    static final String ACCEPT_PROXY = PREFIX + "ACCEPT_PROXY";
    public static final String STATS_PASSWORD = "STATS_PASSWORD";
    private static final Set<String> PROCESS_VARIABLES = Set.of(PREFIX + "TRANSPORT", PREFIX + "VAULT",
            PREFIX + "VAULT_KEY", "SSL_CERT_FILE", "SSL_CERT_DIR");
    private static final Set<String> SERVED = Set.of(
            CertificateBundles.DEFAULT_CERT, CertificateBundles.SSL_CIPHERS, CertificateBundles.HTTP2,
            LocalAnswers.HEALTH_URI, ACCEPT_PROXY, CustomSettings.VARIABLE, GlobalSettings.VARIABLE);

    private LoadBalancerVariables() {
    }

    /**
     * Whether a variable is a setting of the load balancer service, which it reads from its environment: its
     * certificates, ACME challenges, statistics password and KONTENA_LB_* variables, but not the variables of the
     * process that shares their prefixes: its transport, its vault file and key (proxy.Transport,
     * vault.FileSecretStore), and OpenSSL's paths to trusted certificates, which many environments set.
     */
    public static boolean isSetting(String name) {
        return (name.equals(CertificateBundles.SSL_CERTS) || name.startsWith(CertificateBundles.SSL_CERT_PREFIX)
                || name.startsWith(PREFIX) || name.startsWith(LocalAnswers.ACME_PREFIX) || name.equals(STATS_PASSWORD))
                && !PROCESS_VARIABLES.contains(name);
    }

    /** KONTENA_LB_ACCEPT_PROXY with any value: every listener expects the PROXY protocol. */
    static boolean acceptsProxy(StackService lb) {
        return lb.environment().containsKey(ACCEPT_PROXY);
    }

    /**
     * STATS_PASSWORD: the password of user stats for the statistics page, which the admin API serves ({@code run
     * --admin}; Kontena's was on port 1000). Kontena's default, "secret", is not kept: no password, no login asked.
     */
    static Optional<String> statsPassword(StackService lb, Problems problems) {
        String password = lb.environment().get(STATS_PASSWORD);
        if (password != null && password.isBlank()) {
            problems.add(lb.name(), STATS_PASSWORD, "", "empty: give the password that the statistics page and the "
                    + "admin API ask for (user stats), or remove the variable");
            return Optional.empty();
        }
        return Optional.ofNullable(password);
    }

    static void check(StackService lb, Problems problems) {
        lb.environment().forEach((name, value) -> {
            String upper = name.toUpperCase(Locale.ROOT);
            if (!upper.startsWith(PREFIX) || SERVED.contains(name)) {
                return;
            }
            String message;
            if (SERVED.contains(upper)) {
                message = "variable names are case-sensitive; did you mean " + upper + "?";
            } else if (ServiceVariables.VALID.contains(upper)) {
                message = "a variable of a balanced service, not of the load balancer; set it on the services "
                        + "that link to " + lb.name();
            } else {
                message = "unknown variable. Valid names on a load balancer service: "
                        + String.join(", ", SERVED.stream().sorted().toList());
            }
            problems.add(lb.name(), name, value, message);
        });
    }
}
