package io.kontena.lb.kontena;

import io.kontena.lb.config.StickyCookie;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * KONTENA_LB_COOKIE: empty for Kontena's default ({@code cookie KONTENA_SERVERID insert indirect nocache}), else a
 * HAProxy {@code cookie} line: {@code cookie NAME insert|prefix [indirect] [nocache] [httponly] [secure]
 * [domain DOMAIN]}. HAProxy's other options (rewrite, preserve, postonly, maxidle, maxlife, dynamic, attr) are
 * problems: a session that should expire, or a cookie rewritten, and not being so, would be hard to trace.
 */
final class StickyCookies {
    static final String VARIABLE = ServiceVariables.PREFIX + "COOKIE";
    private static final String FORM = "expected empty (Kontena's default: cookie KONTENA_SERVERID insert indirect "
            + "nocache) or 'cookie NAME insert|prefix [indirect] [nocache] [httponly] [secure] [domain DOMAIN]'";
    /** RFC 6265's cookie-name: a token. */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Set<String> UNSUPPORTED = Set.of("rewrite", "preserve", "postonly", "maxidle", "maxlife",
            "dynamic", "attr");

    private StickyCookies() {
    }

    static Optional<StickyCookie> read(String service, String value, Problems problems) {
        String line = value.trim();
        if (line.isEmpty()) {
            return Optional.of(StickyCookie.DEFAULT);
        }
        String[] w = line.split("\\s+");
        if (w.length < 3 || !w[0].equals("cookie")) {
            problems.add(service, VARIABLE, value, FORM);
            return Optional.empty();
        }
        if (!TOKEN.matcher(w[1]).matches()) {
            problems.add(service, VARIABLE, value, "'" + w[1] + "' is not a cookie name (letters, digits and "
                    + "!#$%&'*+.^_`|~-)");
            return Optional.empty();
        }
        StickyCookie.Mode mode = null;
        boolean indirect = false;
        boolean nocache = false;
        boolean httpOnly = false;
        boolean secure = false;
        Optional<String> domain = Optional.empty();
        for (int i = 2; i < w.length; i++) {
            switch (w[i]) {
                case "insert", "prefix" -> {
                    if (mode != null) {
                        problems.add(service, VARIABLE, value, "give one of insert and prefix");
                        return Optional.empty();
                    }
                    mode = w[i].equals("insert") ? StickyCookie.Mode.INSERT : StickyCookie.Mode.PREFIX;
                }
                case "indirect" -> indirect = true;
                case "nocache" -> nocache = true;
                case "httponly" -> httpOnly = true;
                case "secure" -> secure = true;
                case "domain" -> {
                    if (i + 1 == w.length || !HostNames.isHostName(w[i + 1].replaceFirst("^\\.", "")
                            )) {
                        problems.add(service, VARIABLE, value, "'domain' needs a domain name after it, such as "
                                + ".example.com");
                        return Optional.empty();
                    }
                    domain = Optional.of(w[++i]);
                }
                default -> {
                    problems.add(service, VARIABLE, value, (UNSUPPORTED.contains(w[i])
                            ? "'" + w[i] + "' is not supported" : "unknown option '" + w[i] + "'") + "; " + FORM);
                    return Optional.empty();
                }
            }
        }
        if (mode == null) {
            problems.add(service, VARIABLE, value, "say how the cookie is kept, insert or prefix; " + FORM);
            return Optional.empty();
        }
        return Optional.of(new StickyCookie(w[1], mode, indirect, nocache, httpOnly, secure, domain));
    }
}
