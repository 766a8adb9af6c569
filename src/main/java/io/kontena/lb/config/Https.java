package io.kontena.lb.config;

import java.util.List;

/**
 * HTTPS on one port with the given certificates; HTTP services are routed the same as over plain HTTP.
 *
 * @param port         the port HTTPS listens on (after any port mapping)
 * @param certificates every valid certificate, in the order given
 * @param warnings     certificates that are served but need attention (expired or expiring soon)
 */
public record Https(int port, List<Certificate> certificates, TlsSettings settings, List<Problem> warnings) {
    public Https {
        certificates = List.copyOf(certificates);
        warnings = List.copyOf(warnings);
    }
}
