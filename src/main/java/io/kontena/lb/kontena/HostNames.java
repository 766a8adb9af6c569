package io.kontena.lb.kontena;

import java.util.Locale;
import java.util.regex.Pattern;

/** The syntax of host names: virtual hosts (with wildcards) and upstream hosts. */
final class HostNames {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Pattern IPV4 = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    static final String VIRTUAL_HOST_FORM = "expected a host name such as www.example.com or *.example.com "
            + "(letters, digits, '-' and '_'; labels of up to 63 characters separated by dots)";

    private HostNames() {
    }

    /**
     * One KONTENA_LB_VIRTUAL_HOSTS entry, lower-cased.
     *
     * @throws IllegalArgumentException saying what is wrong and what a virtual host looks like
     */
    static String virtualHost(String entry) {
        String host = entry.trim().toLowerCase(Locale.ROOT);
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host name; " + VIRTUAL_HOST_FORM);
        }
        if (host.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("a host name has no spaces; separate names with commas");
        }
        if (host.contains("://")) {
            throw new IllegalArgumentException("give the host name alone, without http:// or https://");
        }
        if (host.contains("/")) {
            throw new IllegalArgumentException("give the host name alone, without a path; "
                    + "paths go in KONTENA_LB_VIRTUAL_PATH");
        }
        if (host.contains(":")) {
            throw new IllegalArgumentException("give the host name without a port: "
                    + "the port is removed from the Host header before matching");
        }
        String name = host.startsWith("*.") ? host.substring(2) : host;
        if (name.contains("*")) {
            throw new IllegalArgumentException("a wildcard is allowed only as the whole first label, "
                    + "as in *.example.com");
        }
        if (!isHostName(name)) {
            throw new IllegalArgumentException(VIRTUAL_HOST_FORM);
        }
        return host;
    }

    /** A DNS name or an IPv4 address (IPv6 addresses are checked where their brackets are handled). */
    static boolean isHostName(String host) {
        String lower = host.toLowerCase(Locale.ROOT);
        if (lower.isEmpty() || lower.length() > 253) {
            return false;
        }
        // All digits and dots can only be meant as an IPv4 address: 10.0.0.300 is a typo, not a name.
        if (lower.matches("[0-9.]+")) {
            return IPV4.matcher(lower).matches();
        }
        for (String label : lower.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }
}
