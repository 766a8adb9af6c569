package io.kontena.lb.config;

import java.util.Optional;

/**
 * Sticky sessions by cookie, as HAProxy's {@code cookie} line: a client that was answered by an upstream comes back
 * to it while it is in rotation. {@link Mode#INSERT}: the load balancer gives the client a cookie of its own, named
 * {@code name}, whose value names the upstream; {@link Mode#PREFIX}: the upstream's own cookie {@code name} (a session
 * id) carries the upstream's name in front of its value, {@code <upstream>~<value>}, which the upstream never sees.
 *
 * @param indirect insert: the cookie is not passed on to the upstream, and not set again while it names the upstream
 * @param nocache  insert: a response that sets the cookie is marked {@code Cache-Control: private}
 */
public record StickyCookie(String name, Mode mode, boolean indirect, boolean nocache, boolean httpOnly, boolean secure,
                           Optional<String> domain) {
    public enum Mode { INSERT, PREFIX }

    /** Kontena's default for KONTENA_LB_COOKIE with an empty value: {@code cookie KONTENA_SERVERID insert indirect nocache}. */
    public static final StickyCookie DEFAULT = new StickyCookie("KONTENA_SERVERID", Mode.INSERT, true, true, false,
            false, Optional.empty());
}
