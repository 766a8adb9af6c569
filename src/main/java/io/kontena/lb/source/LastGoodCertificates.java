package io.kontena.lb.source;

import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A certificate bundle that a change breaks (a bad paste into the vault, a truncated variable) keeps serving its
 * last good certificate, in its place among the others, until it is fixed or removed: a bad bundle never takes
 * a name, or HTTPS as a whole, down. A bundle's identity is its origin ({@code SSL_CERTS#2}, {@code SSL_CERT_www}),
 * which the problem about it names as its key.
 */
final class LastGoodCertificates {
    private LastGoodCertificates() {
    }

    static Optional<Https> keep(Optional<Https> applied, LbConfig snapshot) {
        if (applied.isEmpty()) {
            return snapshot.https();
        }
        // what the problems name (a bundle, or a variable with bundles numbered within it) → whose problem it is
        Map<String, String> rejected = new HashMap<>();
        snapshot.problems().forEach(p -> rejected.putIfAbsent(p.key(), p.subject()));
        Set<String> present = snapshot.https().map(h -> h.certificates().stream().map(Certificate::origin)
                .collect(Collectors.toSet())).orElse(Set.of());
        List<Certificate> old = applied.get().certificates();
        List<Certificate> certificates = new ArrayList<>(snapshot.https().map(Https::certificates).orElse(List.of()));
        List<Problem> warnings = new ArrayList<>(snapshot.https().map(Https::warnings).orElse(List.of()));
        boolean kept = false;
        for (int i = 0; i < old.size(); i++) {
            Certificate c = old.get(i);
            String subject = rejected.getOrDefault(c.origin(), rejected.get(variable(c.origin())));
            if (subject != null && !present.contains(c.origin())) {
                certificates.add(Math.min(i, certificates.size()), c);
                warnings.add(new Problem(subject, c.origin(), "", "the new bundle is rejected; the last good "
                        + "certificate (" + String.join(", ", c.dnsNames()) + ") keeps serving until it is fixed"));
                kept = true;
            }
        }
        if (!kept) {
            return snapshot.https();
        }
        Https base = snapshot.https().orElse(applied.get());
        return Optional.of(new Https(base.port(), certificates, base.settings(), warnings));
    }

    /** {@code SSL_CERTS#2} → {@code SSL_CERTS}: a problem with the variable as a whole covers its bundles. */
    private static String variable(String origin) {
        int hash = origin.indexOf('#');
        return hash < 0 ? origin : origin.substring(0, hash);
    }
}
