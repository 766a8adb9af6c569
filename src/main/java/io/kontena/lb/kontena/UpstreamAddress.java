package io.kontena.lb.kontena;

import io.kontena.lb.config.Upstream;
import io.netty.util.NetUtil;

/** The syntax of an {@code upstreams:} entry: {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}. */
final class UpstreamAddress {
    static final String FORMS = "expected host, host:port or [IPv6]:port, for example 10.0.0.5:8080";

    private UpstreamAddress() {
    }

    /** @throws IllegalArgumentException saying what is wrong and what an entry looks like */
    static Upstream parse(String entry, int defaultPort) {
        String text = entry.trim();
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty entry; " + FORMS);
        }
        if (text.contains("://")) {
            throw new IllegalArgumentException("give the address alone, without a scheme; " + FORMS);
        }
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            String after = close < 0 ? "" : text.substring(close + 1);
            if (close < 0 || !after.isEmpty() && !after.startsWith(":")) {
                throw new IllegalArgumentException(FORMS);
            }
            host = text.substring(1, close);
            port = after.isEmpty() ? null : after.substring(1);
            if (!NetUtil.isValidIpV6Address(host)) {
                throw new IllegalArgumentException("'" + host + "' is not an IPv6 address; " + FORMS);
            }
        } else {
            int colon = text.indexOf(':');
            if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
                throw new IllegalArgumentException("an IPv6 address goes in brackets, as in [fd00::1]:8080");
            }
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? null : text.substring(colon + 1);
            if (!HostNames.isHostName(host)) {
                throw new IllegalArgumentException("'" + host + "' is not a host name or IPv4 address; " + FORMS);
            }
        }
        return new Upstream(host, port == null ? defaultPort : Ports.parse(port));
    }
}
