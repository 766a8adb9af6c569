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
 * @param protocols          the TLS versions to offer, of TLSv1.3 and TLSv1.2
 */
public record TlsSettings(List<String> ciphers, Optional<String> defaultCertificate, boolean http2,
                          List<String> protocols) {
    public static final List<String> ALL_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final TlsSettings DEFAULTS = new TlsSettings(List.of(), Optional.empty(), true);

    public TlsSettings {
        ciphers = List.copyOf(ciphers);
        Objects.requireNonNull(defaultCertificate, "defaultCertificate");
        protocols = List.copyOf(protocols);
        if (protocols.isEmpty() || !ALL_PROTOCOLS.containsAll(protocols)) {
            throw new IllegalArgumentException("protocols are some of " + ALL_PROTOCOLS + ", not " + protocols);
        }
    }

    /** Settings that offer TLS 1.3 and 1.2. */
    public TlsSettings(List<String> ciphers, Optional<String> defaultCertificate, boolean http2) {
        this(ciphers, defaultCertificate, http2, ALL_PROTOCOLS);
    }
}
