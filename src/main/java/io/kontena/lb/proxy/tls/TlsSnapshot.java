package io.kontena.lb.proxy.tls;

import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.config.Certificate;
import io.netty.handler.ssl.SslContext;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One immutable version of what the TLS store serves: SNI name → context, read by handshakes without locks.
 */
final class TlsSnapshot {
    static final TlsSnapshot EMPTY = new TlsSnapshot(List.of(), Map.of(), Map.of(), null, null);

    /**
     * A certificate with the contexts built for it.
     *
     * @param context    for HTTPS, offering HTTP/2 and HTTP/1.1 by ALPN
     * @param tcpContext for TCP services that terminate TLS: no ALPN, the bytes are the upstream's business;
     *                   null when no such service exists
     */
    record Served(Certificate certificate, SslContext context, SslContext tcpContext) {
    }

    private final List<Served> served;
    private final Map<String, Served> exact;
    /** Keyed by the domain below the {@code *.}: {@code *.example.com} is found under {@code example.com}. */
    private final Map<String, Served> wildcards;
    private final Served fallback;
    private final TlsSettings settings;

    private TlsSnapshot(List<Served> served, Map<String, Served> exact, Map<String, Served> wildcards,
                        Served fallback, TlsSettings settings) {
        this.served = served;
        this.exact = exact;
        this.wildcards = wildcards;
        this.fallback = fallback;
        this.settings = settings;
    }

    /**
     * When two certificates claim a name, one that has not expired wins (so a renewed certificate can be added
     * beside the old one), and otherwise the one given first.
     */
    static TlsSnapshot of(List<Served> served, TlsSettings settings, Instant now) {
        Map<String, Served> exact = new HashMap<>();
        Map<String, Served> wildcards = new HashMap<>();
        for (Served s : served) {
            for (String name : s.certificate().dnsNames()) {
                if (HostNames.isWildcard(name)) {
                    wildcards.merge(name.substring(2), s, (old, candidate) -> preferred(old, candidate, now));
                } else {
                    exact.merge(name, s, (old, candidate) -> preferred(old, candidate, now));
                }
            }
        }
        List<Certificate> certificates = served.stream().map(Served::certificate).toList();
        Served fallback = DefaultCertificate.choose(certificates, settings.defaultCertificate())
                .map(c -> served.get(certificates.indexOf(c)))
                .orElse(null);
        return new TlsSnapshot(List.copyOf(served), Map.copyOf(exact), Map.copyOf(wildcards), fallback, settings);
    }

    private static Served preferred(Served old, Served candidate, Instant now) {
        boolean oldExpired = !old.certificate().notAfter().isAfter(now);
        boolean candidateExpired = !candidate.certificate().notAfter().isAfter(now);
        return oldExpired && !candidateExpired ? candidate : old;
    }

    boolean isEmpty() {
        return served.isEmpty();
    }

    TlsSettings settings() {
        return settings;
    }

    List<Served> served() {
        return served;
    }

    /**
     * The certificate for an SNI name: the exact name, else the wildcard for its parent domain (one label, as
     * browsers match), else the default. Null only when there is no certificate at all.
     */
    Served select(String hostName) {
        if (hostName != null && !hostName.isEmpty()) {
            String host = HostNames.normalize(hostName);
            Served match = exact.get(host);
            if (match != null) {
                return match;
            }
            String parent = HostNames.parentDomain(host);
            if (parent != null) {
                match = wildcards.get(parent);
                if (match != null) {
                    return match;
                }
            }
        }
        return fallback;
    }

    Optional<Certificate> defaultCertificate() {
        return Optional.ofNullable(fallback).map(Served::certificate);
    }

    List<ServedCertificate> describe() {
        List<ServedCertificate> out = new ArrayList<>(served.size());
        for (Served s : served) {
            Certificate c = s.certificate();
            out.add(new ServedCertificate(c.origin(), c.dnsNames(), c.notAfter(), s == fallback));
        }
        return out;
    }
}
