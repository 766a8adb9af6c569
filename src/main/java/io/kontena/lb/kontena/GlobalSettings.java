package io.kontena.lb.kontena;

import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TlsSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * KONTENA_LB_GLOBAL_SETTINGS: HAProxy {@code global} lines. The proxy is not HAProxy, so the lines it acts on are
 * those about TLS, which apply to every TLS listener: the protocol versions ({@code ssl-default-bind-options} with
 * {@code ssl-min-ver}, {@code ssl-max-ver}, {@code no-tlsv1x}, {@code force-tlsv1x}) and the TLS 1.2 cipher list
 * ({@code ssl-default-bind-ciphers}, as KONTENA_LB_SSL_CIPHERS). {@code tune.ssl.default-dh-param}, common in
 * Kontena stacks, changes nothing and is accepted: no suite with Diffie-Hellman groups of that kind is offered. Any
 * other line is a problem that says so, rather than silently ignored.
 */
final class GlobalSettings {
    static final String VARIABLE = ServiceVariables.PREFIX + "GLOBAL_SETTINGS";
    /** What is offered, oldest first: TLS 1.0 and 1.1 never are, nor SSL. */
    private static final List<String> VERSIONS = List.of("TLSv1.2", "TLSv1.3");
    private static final List<String> NEVER_OFFERED = List.of("SSLv3", "TLSv1.0", "TLSv1.1");

    /**
     * @param protocols the TLS versions to offer, newest first
     * @param ciphers   the TLS 1.2 cipher list, when a line gives one
     */
    record Tls(List<String> protocols, Optional<String> ciphers) {
        static final Tls DEFAULTS = new Tls(TlsSettings.ALL_PROTOCOLS, Optional.empty());
    }

    private final String subject;
    private final List<Problem> problems;
    private int min = 0;
    private int max = VERSIONS.size() - 1;
    private Optional<String> ciphers = Optional.empty();

    private GlobalSettings(String subject, List<Problem> problems) {
        this.subject = subject;
        this.problems = problems;
    }

    /** Reads the variable; a line that cannot be honoured is a problem added to {@code problems}, and left out. */
    static Tls read(String subject, Map<String, String> environment, List<Problem> problems) {
        String text = environment.get(VARIABLE);
        if (text == null || text.isBlank()) {
            return Tls.DEFAULTS;
        }
        GlobalSettings settings = new GlobalSettings(subject, problems);
        for (String raw : text.split("\\R")) {
            String line = raw.trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                settings.apply(line, HaproxyWords.split(line));
            } catch (IllegalArgumentException e) {
                settings.problem(line, e.getMessage());
            }
        }
        if (settings.min > settings.max) {
            settings.problem(text, "these lines leave no TLS version to offer (at least " + VERSIONS.get(settings.min)
                    + ", at most " + VERSIONS.get(settings.max) + "); TLS 1.3 and 1.2 stay on");
            return new Tls(Tls.DEFAULTS.protocols(), settings.ciphers);
        }
        List<String> protocols = new ArrayList<>();
        for (int i = settings.max; i >= settings.min; i--) {
            protocols.add(VERSIONS.get(i));
        }
        return new Tls(List.copyOf(protocols), settings.ciphers);
    }

    private void apply(String line, List<String> words) {
        switch (words.get(0)) {
            case "ssl-default-bind-options" -> bindOptions(line, words.subList(1, words.size()));
            case "ssl-default-bind-ciphers" -> {
                if (words.size() != 2) {
                    problem(line, "expected one cipher list, suites separated by ':'");
                } else {
                    ciphers = Optional.of(words.get(1));
                }
            }
            case "tune.ssl.default-dh-param" -> {
                // accepted: it sizes DHE groups, and no DHE suite is offered
            }
            case "maxconn" -> problem(line, "the connections held at once are run --max-connections N (by default "
                    + "as many as the open-file limit allows)");
            case "nbthread", "nbproc" -> problem(line, "the number of event loops is run --workers");
            default -> problem(line, "not a global setting this load balancer acts on; it acts on "
                    + "ssl-default-bind-options (ssl-min-ver, ssl-max-ver, no-tlsv12, no-tlsv13, force-tlsv12, "
                    + "force-tlsv13) and ssl-default-bind-ciphers, and accepts tune.ssl.default-dh-param");
        }
    }

    private void bindOptions(String line, List<String> options) {
        for (int i = 0; i < options.size(); i++) {
            String option = options.get(i).toLowerCase(Locale.ROOT);
            switch (option) {
                case "no-sslv3", "no-tlsv10", "no-tlsv11" -> {
                    // never offered
                }
                case "no-tlsv12", "force-tlsv13" -> min = Math.max(min, 1);
                case "no-tlsv13" -> max = Math.min(max, 0);
                case "force-tlsv12" -> max = Math.min(max, 0);
                case "ssl-min-ver", "ssl-max-ver" -> {
                    if (i + 1 == options.size()) {
                        problem(line, option + " needs a version: TLSv1.2 or TLSv1.3");
                        return;
                    }
                    String version = options.get(++i);
                    int index = VERSIONS.indexOf(version);
                    if (index < 0 && NEVER_OFFERED.contains(version) && option.equals("ssl-min-ver")) {
                        continue; // older than anything offered: nothing to do
                    }
                    if (index < 0) {
                        problem(line, option + " " + version + ": expected TLSv1.2 or TLSv1.3 (" + String.join(", ",
                                NEVER_OFFERED) + " are never offered)");
                        continue;
                    }
                    if (option.equals("ssl-min-ver")) {
                        min = Math.max(min, index);
                    } else {
                        max = Math.min(max, index);
                    }
                }
                default -> problem(line, "bind option " + options.get(i) + " is not supported; supported: "
                        + "ssl-min-ver, ssl-max-ver, no-sslv3, no-tlsv10, no-tlsv11, no-tlsv12, no-tlsv13, "
                        + "force-tlsv12, force-tlsv13");
            }
        }
    }

    private void problem(String value, String message) {
        problems.add(new Problem(subject, VARIABLE, value, message));
    }
}
