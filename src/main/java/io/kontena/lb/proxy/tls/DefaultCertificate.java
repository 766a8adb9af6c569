package io.kontena.lb.proxy.tls;

import io.kontena.lb.config.Certificate;

import java.util.List;
import java.util.Optional;

/**
 * The rule for the certificate that clients get when their SNI name matches none (or they send none).
 *
 * <p>With a selector, the certificate whose origin is the selector; else the first whose DNS names contain it
 * exactly; else the first with a wildcard covering it. Without a selector, or when it matches nothing, the first
 * certificate of the list, so the order the certificates were given in decides, never how anything sorts.
 */
public final class DefaultCertificate {
    private DefaultCertificate() {
    }

    public static Optional<Certificate> choose(List<Certificate> certificates, Optional<String> selector) {
        if (certificates.isEmpty()) {
            return Optional.empty();
        }
        return selector.flatMap(s -> selected(certificates, s)).or(() -> Optional.of(certificates.get(0)));
    }

    /** The certificate a selector names, if any: used to tell an operator that it names none. */
    public static Optional<Certificate> selected(List<Certificate> certificates, String selector) {
        String wanted = selector.trim();
        for (Certificate c : certificates) {
            if (c.origin().equals(wanted)) {
                return Optional.of(c);
            }
        }
        String host = HostNames.normalize(wanted);
        for (Certificate c : certificates) {
            if (c.dnsNames().contains(host)) {
                return Optional.of(c);
            }
        }
        for (Certificate c : certificates) {
            for (String name : c.dnsNames()) {
                if (HostNames.covers(name, host)) {
                    return Optional.of(c);
                }
            }
        }
        return Optional.empty();
    }
}
