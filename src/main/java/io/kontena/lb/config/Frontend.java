package io.kontena.lb.config;

import java.util.Map;

/**
 * What the load balancer's listeners do before any service is involved.
 *
 * @param answers     paths it answers itself, on every HTTP listener and any host, with a 200 and this text: its
 *                    health URI, ACME http-01 challenges
 * @param acceptProxy every connection starts with a PROXY protocol header (v1 or v2) from a load balancer in front,
 *                    which gives the client's address
 */
public record Frontend(Map<String, String> answers, boolean acceptProxy) {
    public static final Frontend DEFAULT = new Frontend(Map.of(), false);

    public Frontend {
        answers = Map.copyOf(answers);
    }
}
