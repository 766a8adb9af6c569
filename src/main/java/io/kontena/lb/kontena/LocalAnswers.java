package io.kontena.lb.kontena;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What the load balancer answers itself, from its own variables: {@value #HEALTH_URI}, a path that answers 200
 * while it serves (HAProxy's monitor-uri, for whatever watches it), and {@value #ACME_PREFIX}{@code <token>}, the key
 * authorization that {@code /.well-known/acme-challenge/<token>} answers with (Let's Encrypt's http-01 challenge,
 * for a certificate of a name the load balancer serves).
 */
final class LocalAnswers {
    static final String HEALTH_URI = ServiceVariables.PREFIX + "HEALTH_URI";
    static final String ACME_PREFIX = "ACME_CHALLENGE_";
    static final String ACME_PATH = "/.well-known/acme-challenge/";
    static final String HEALTHY = "OK\n";
    /** RFC 8555, section 8.3: a token is base64url characters. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]+");

    private LocalAnswers() {
    }

    /** Path -> the text it answers with. Each bad variable is a problem of the load balancer, and left out. */
    static Map<String, String> read(StackService lb, Problems problems) {
        Map<String, String> answers = new TreeMap<>();
        lb.environment().forEach((name, value) -> {
            if (name.equals(HEALTH_URI)) {
                String path = value.trim();
                if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c == '?' || c == '#')) {
                    problems.add(lb.name(), name, value, "expected a path such as /health: starting with '/', "
                            + "without spaces, query or fragment");
                } else {
                    answers.put(path, HEALTHY);
                }
            } else if (name.startsWith(ACME_PREFIX)) {
                String token = name.substring(ACME_PREFIX.length());
                String keyAuthorization = value.trim();
                if (!TOKEN.matcher(token).matches()) {
                    problems.add(lb.name(), name, value, "the token after " + ACME_PREFIX + " is letters, digits, '_' "
                            + "and '-' (base64url), as the ACME server gave it");
                } else if (keyAuthorization.isEmpty() || keyAuthorization.chars().anyMatch(c -> c <= ' ')) {
                    problems.add(lb.name(), name, value, "expected the key authorization, <token>.<thumbprint>, "
                            + "without spaces");
                } else {
                    answers.put(ACME_PATH + token, keyAuthorization);
                }
            }
        });
        return answers;
    }
}
