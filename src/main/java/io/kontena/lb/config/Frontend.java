package io.kontena.lb.config;

import java.util.Map;
import java.util.Optional;

/**
 * What the load balancer does of its own, before or besides its services.
 *
 * @param answers       paths it answers itself, on every HTTP listener and any host, with a 200 and this text: its
 *                      health URI, ACME http-01 challenges
 * @param acceptProxy   every connection starts with a PROXY protocol header (v1 or v2) from a load balancer in
 *                      front, which gives the client's address
 * @param statsPassword the password of user stats for the statistics page and the admin API, if they ask for one
 */
public record Frontend(Map<String, String> answers, boolean acceptProxy, Optional<String> statsPassword) {
    public static final Frontend DEFAULT = new Frontend(Map.of(), false, Optional.empty());

    public Frontend {
        answers = Map.copyOf(answers);
    }

    /** The password is never shown. */
    @Override
    public String toString() {
        return "Frontend[answers=" + answers.keySet() + ", acceptProxy=" + acceptProxy + ", statsPassword="
                + statsPassword.map(p -> "(set)").orElse("(none)") + "]";
    }
}
