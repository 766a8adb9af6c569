package io.kontena.lb.proxy.http;

/** Host header helpers. */
final class HostNames {
    private HostNames() {
    }

    /** "example.com:8080" → "example.com"; "[::1]:8080" → "[::1]". */
    static String withoutPort(String host) {
        int colon = host.lastIndexOf(':');
        if (colon < 0 || host.indexOf(']', colon) >= 0 || (host.indexOf(':') != colon && !host.startsWith("["))) {
            return host;
        }
        return host.substring(0, colon);
    }
}
