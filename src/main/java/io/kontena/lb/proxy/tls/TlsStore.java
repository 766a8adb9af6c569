package io.kontena.lb.proxy.tls;

import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.Problem;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.Mapping;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The certificates a TLS listener serves, chosen per handshake by SNI.
 *
 * <p>{@link #update} builds a whole new version and publishes it with one volatile write: handshakes that start
 * afterwards see it, connections already established keep the context they were made with. A certificate that
 * did not change keeps its context, and with it the sessions clients can resume.
 *
 * <p>Put {@link #newSniHandler()} first in a listener's pipeline, and an {@link AlpnHandoff} after it.
 */
public final class TlsStore implements Mapping<String, SslContext> {
    private static final Logger log = LoggerFactory.getLogger(TlsStore.class);

    /**
     * What a built context depends on; the origin and the default choice do not matter to it.
     *
     * @param http  a context for HTTPS (ALPN), else for TCP services (no ALPN)
     * @param http2 whether ALPN offers h2 (HTTPS only)
     */
    private record ContextKey(List<X509Certificate> chain, PrivateKey key, List<String> ciphers, boolean http,
                              boolean http2) {
        static ContextKey of(Certificate c, TlsSettings s, boolean http) {
            return new ContextKey(c.chain(), c.key(), s.ciphers(), http, http && s.http2());
        }
    }

    private final ServerSslContexts contexts;
    private final Clock clock;
    private volatile TlsSnapshot current = TlsSnapshot.EMPTY;
    /** Guarded by this; only {@link #update} touches it. */
    private Map<ContextKey, SslContext> built = Map.of();

    public TlsStore() {
        this(TlsProvider.preferred(), Clock.systemUTC());
    }

    /** @param provider {@code OPENSSL} or {@code JDK}; tests run both */
    public TlsStore(SslProvider provider, Clock clock) {
        this(new ServerSslContexts(provider), clock);
    }

    TlsStore(ServerSslContexts contexts, Clock clock) {
        this.contexts = contexts;
        this.clock = clock;
    }

    public SslProvider provider() {
        return contexts.provider();
    }

    /**
     * Serves these certificates from the next handshake on. Never throws for a bad certificate: it is left out
     * and returned as a problem, and the others are served.
     *
     * @param certificates in the order the default is chosen from (see {@link DefaultCertificate})
     * @param forTcp       also build the contexts of TCP services that terminate TLS ({@link #newTcpSniHandler})
     * @return the certificates that could not be served, and why
     */
    public synchronized List<Problem> update(List<Certificate> certificates, TlsSettings settings, boolean forTcp) {
        List<Problem> problems = new ArrayList<>();
        Map<ContextKey, SslContext> next = new HashMap<>();
        List<TlsSnapshot.Served> served = new ArrayList<>(certificates.size());
        for (Certificate certificate : certificates) {
            SslContext context = context(certificate, settings, true, next, problems);
            SslContext tcpContext = forTcp ? context(certificate, settings, false, next, problems) : null;
            if (context != null && (tcpContext != null || !forTcp)) {
                served.add(new TlsSnapshot.Served(certificate, context, tcpContext));
            }
        }
        TlsSnapshot snapshot = TlsSnapshot.of(served, settings, clock.instant());
        long reused = next.entrySet().stream().filter(e -> built.get(e.getKey()) == e.getValue()).count();
        built = Map.copyOf(next);
        current = snapshot;
        log.debug("serving {} certificate(s), {} context(s) reused, default {}", served.size(), reused,
                snapshot.defaultCertificate().map(Certificate::origin).orElse("none"));
        return problems;
    }

    /** HTTPS only: see {@link #update(List, TlsSettings, boolean)}. */
    public List<Problem> update(List<Certificate> certificates, TlsSettings settings) {
        return update(certificates, settings, false);
    }

    /** The context of this version if it is built already, else the last version's, else a new one; null if none. */
    private SslContext context(Certificate certificate, TlsSettings settings, boolean http,
                               Map<ContextKey, SslContext> next, List<Problem> problems) {
        ContextKey key = ContextKey.of(certificate, settings, http);
        SslContext context = next.get(key);
        if (context == null) {
            context = built.get(key);
            if (context == null) {
                context = build(certificate, settings, http, problems);
            }
            if (context != null) {
                next.put(key, context);
            }
        }
        return context;
    }

    /**
     * A cipher list the provider turns down at build time (one that leaves TLS 1.2 without a suite, say) would
     * otherwise fail every certificate at once; it falls back to the provider's defaults instead, and says so.
     */
    private SslContext build(Certificate certificate, TlsSettings settings, boolean http, List<Problem> problems) {
        try {
            return contexts.build(certificate, settings, http);
        } catch (Exception | LinkageError e) {
            if (!settings.ciphers().isEmpty()) {
                TlsSettings defaults = new TlsSettings(List.of(), settings.defaultCertificate(), settings.http2(),
                        settings.protocols());
                try {
                    SslContext context = contexts.build(certificate, defaults, http);
                    addOnce(problems, new Problem("tls", certificate.origin(), String.join(":", settings.ciphers()),
                            "the TLS provider does not accept this cipher list (" + reason(e)
                                    + "); served with the default ciphers"));
                    return context;
                } catch (Exception | LinkageError ignored) {
                    // the certificate itself is the trouble: report the first failure
                }
            }
            addOnce(problems, new Problem("tls", certificate.origin(), "", "cannot be served: " + reason(e)));
            return null;
        }
    }

    private static void addOnce(List<Problem> problems, Problem problem) {
        if (!problems.contains(problem)) {
            problems.add(problem);
        }
    }

    // messages from the TLS libraries name what failed, never the key itself
    private static String reason(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** Logs a warning for each served certificate that expired or expires soon; the runtime calls it daily. */
    public void logExpiring() {
        Instant now = clock.instant();
        for (ServedCertificate c : served()) {
            CertificateExpiry.warning(c.notAfter(), now).ifPresent(w ->
                    log.warn("{} ({}): certificate {}", c.origin(), String.join(", ", c.dnsNames()), w));
        }
    }

    /** Whether there is any certificate: a TLS listener is only worth opening when there is. */
    public boolean isEmpty() {
        return current.isEmpty();
    }

    /** What is being served now, in the order given, with the default marked. */
    public List<ServedCertificate> served() {
        return current.describe();
    }

    public Optional<Certificate> defaultCertificate() {
        return current.defaultCertificate();
    }

    /** The certificate a handshake for this SNI name (null: none sent) would get now. */
    public Optional<Certificate> certificateFor(String hostName) {
        return Optional.ofNullable(current.select(hostName)).map(TlsSnapshot.Served::certificate);
    }

    /** The SNI lookup: the context for a name, or the default's. Fails the handshake when there is none. */
    @Override
    public SslContext map(String hostName) {
        TlsSnapshot.Served served = current.select(hostName);
        if (served == null) {
            throw new NoCertificateException();
        }
        return served.context();
    }

    /** The first handler of a TLS listener's pipeline; one per connection. */
    public SniHandler newSniHandler() {
        return new CertificateSniHandler(this);
    }

    /**
     * The first handler of a TCP service's connection that terminates TLS: the same certificates by SNI, without
     * ALPN. Needs {@code forTcp} in {@link #update(List, TlsSettings, boolean)}.
     */
    public SniHandler newTcpSniHandler() {
        return new CertificateSniHandler(hostName -> {
            TlsSnapshot.Served served = current.select(hostName);
            if (served == null || served.tcpContext() == null) {
                throw new NoCertificateException();
            }
            return served.tcpContext();
        });
    }

    /** A handshake arrived while no certificate is configured (the last one was just removed). */
    static final class NoCertificateException extends IllegalStateException {
        NoCertificateException() {
            super("no certificate is configured");
        }
    }
}
