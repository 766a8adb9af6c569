package io.kontena.lb.proxy.tls;

import java.time.Instant;
import java.util.List;

/**
 * A certificate as the TLS store serves it, for the admin API and logs.
 *
 * @param origin    where it came from ({@code SSL_CERTS#1}, {@code SSL_CERT_www})
 * @param dnsNames  the names SNI selects it by
 * @param notAfter  when it expires
 * @param isDefault whether clients without a matching name get it
 */
public record ServedCertificate(String origin, List<String> dnsNames, Instant notAfter, boolean isDefault) {
    public ServedCertificate {
        dnsNames = List.copyOf(dnsNames);
    }
}
