package io.kontena.lb.proxy.tls;

import java.util.Locale;

/** Host name rules of certificates: one-label wildcards, as browsers apply them. */
final class HostNames {
    private HostNames() {
    }

    /** Lower case without a trailing dot; the form names are stored and looked up in. */
    static String normalize(String host) {
        String lower = host.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    static boolean isWildcard(String name) {
        return name.startsWith("*.");
    }

    /**
     * The domain a wildcard covering this host would name: {@code a.example.com} → {@code example.com}.
     * Null for a single-label host, which no wildcard covers.
     */
    static String parentDomain(String host) {
        int dot = host.indexOf('.');
        return dot <= 0 || dot == host.length() - 1 ? null : host.substring(dot + 1);
    }

    /** Whether a certificate name (exact or {@code *.domain}) covers a host. */
    static boolean covers(String certificateName, String host) {
        if (isWildcard(certificateName)) {
            String parent = parentDomain(host);
            return parent != null && parent.equals(certificateName.substring(2));
        }
        return certificateName.equals(host);
    }
}
