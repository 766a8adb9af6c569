package io.kontena.lb.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How certificates are served, apart from the certificates themselves.
 *
 * @param ciphers            cipher suites to offer, OpenSSL or IANA names; empty means the provider's defaults
 * @param defaultCertificate which certificate a client without a matching SNI name gets: an origin
 *                           ({@code SSL_CERTS#2}, {@code SSL_CERT_www}) or a DNS name; empty means the first one
 * @param http2              offer {@code h2} before {@code http/1.1} in ALPN
 */
public record TlsSettings(List<String> ciphers, Optional<String> defaultCertificate, boolean http2) {
    public static final TlsSettings DEFAULTS = new TlsSettings(List.of(), Optional.empty(), true);

    public TlsSettings {
        ciphers = List.copyOf(ciphers);
        Objects.requireNonNull(defaultCertificate, "defaultCertificate");
    }
}
