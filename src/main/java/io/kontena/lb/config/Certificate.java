package io.kontena.lb.config;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A certificate the load balancer can serve: the chain it sends and the key that proves it.
 *
 * <p>Equality is by content (certificates compare by their encoding, JDK keys by theirs), so two snapshots
 * that carry the same certificate under a different origin still let the TLS layer reuse what it built.
 *
 * @param origin   where it came from, for people: a variable name, {@code SSL_CERTS#2}, a file
 * @param chain    the server certificate first, then its intermediates, as given
 * @param key      the private key of {@code chain.get(0)}
 * @param dnsNames lower-case names the certificate is valid for (subject CN and DNS SANs), wildcards included
 * @param notAfter the end of the server certificate's validity
 */
public record Certificate(String origin, List<X509Certificate> chain, PrivateKey key, List<String> dnsNames,
                          Instant notAfter) {

    public Certificate {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(notAfter, "notAfter");
        chain = List.copyOf(chain);
        dnsNames = List.copyOf(dnsNames);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certificate chain needs at least the server certificate");
        }
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    // The generated toString would print the key, and some JDK key classes print their private numbers.
    @Override
    public String toString() {
        return "Certificate[" + origin + " " + dnsNames + " until " + notAfter + "]";
    }
}
