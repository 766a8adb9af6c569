package io.kontena.lb.kontena;

import io.kontena.lb.config.Certificate;
import io.kontena.lb.config.Problem;
import io.kontena.lb.proxy.tls.CertificateExpiry;
import io.kontena.lb.proxy.tls.CipherList;
import io.kontena.lb.proxy.tls.DefaultCertificate;
import io.kontena.lb.config.TlsSettings;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The certificates and TLS settings of a load balancer service, from its environment:
 * {@code SSL_CERTS} (bundles one after another, each certificate, intermediates, private key last; several vault
 * secrets mapped to it arrive joined by newlines), {@code SSL_CERT_<name>} (one bundle each),
 * {@code KONTENA_LB_DEFAULT_CERT}, {@code KONTENA_LB_SSL_CIPHERS} and {@code KONTENA_LB_HTTP2}.
 *
 * <p>A bad bundle becomes a {@link Problem} naming it ({@code SSL_CERTS#2}, {@code SSL_CERT_www}) and why; the
 * others are served. Order is kept: {@code SSL_CERTS} bundles as given, then {@code SSL_CERT_<name>} by name,
 * which is the order {@link DefaultCertificate} picks the default from.
 */
public final class CertificateBundles {

    public static final String SSL_CERTS = "SSL_CERTS";
    public static final String SSL_CERT_PREFIX = "SSL_CERT_";
    public static final String DEFAULT_CERT = "KONTENA_LB_DEFAULT_CERT";
    public static final String SSL_CIPHERS = "KONTENA_LB_SSL_CIPHERS";
    public static final String HTTP2 = "KONTENA_LB_HTTP2";

    /**
     * @param certificates what can be served, in default-choosing order
     * @param settings     the TLS settings the variables ask for
     * @param problems     bundles and settings that were rejected (the rest applies)
     * @param warnings     certificates that are served but need attention: expired, expiring, not yet valid
     */
    public record Result(List<Certificate> certificates, TlsSettings settings, List<Problem> problems,
                         List<Problem> warnings) {
        public Result {
            certificates = List.copyOf(certificates);
            problems = List.copyOf(problems);
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * Made for the first bundle: its converters load BouncyCastle and it seeds a SecureRandom, which took about
     * 20 ms of a start on one core that a configuration without certificates does not need.
     */
    private CertificateBundleParser parser;
    private final String subject;
    private final Instant now;
    private final List<Certificate> certificates = new ArrayList<>();
    private final List<Problem> problems = new ArrayList<>();
    private final List<Problem> warnings = new ArrayList<>();

    private CertificateBundles(String subject, Instant now) {
        this.subject = subject;
        this.now = now;
    }

    /**
     * @param subject     the load balancer service, to name in problems
     * @param environment the service's variables, secrets already resolved into them
     * @param now         the time expiry is judged against
     */
    /**
     * A certificate and its key kept apart, as TLS clients keep them (etcd's client certificate), read with the rules
     * and the parser of a bundle: PKCS#8, PKCS#1 or SEC1 keys, the key checked against the certificate.
     *
     * @param origin names the pair in the message
     * @throws IllegalArgumentException saying what is wrong with them
     */
    public static Certificate pair(String origin, String certificatePem, String keyPem) {
        try {
            return new CertificateBundleParser().parse(origin,
                    CertificatePemBlock.scan(certificatePem + "\n" + keyPem), true);
        } catch (CertificateBundleParser.Rejected e) {
            throw new IllegalArgumentException(origin + ": " + e.getMessage());
        }
    }

    public static Result read(String subject, Map<String, String> environment, Instant now) {
        CertificateBundles reader = new CertificateBundles(subject, now);
        String joined = environment.get(SSL_CERTS);
        if (joined != null && !joined.isBlank()) {
            reader.readJoined(joined);
        }
        for (Map.Entry<String, String> variable : new TreeMap<>(environment).entrySet()) {
            String name = variable.getKey();
            String value = variable.getValue();
            if (name.startsWith(SSL_CERT_PREFIX) && name.length() > SSL_CERT_PREFIX.length()) {
                reader.readSingle(name, value == null ? "" : value);
            }
        }
        TlsSettings settings = reader.settings(environment);
        return new Result(reader.certificates, settings, reader.problems, reader.warnings);
    }

    private void readJoined(String text) {
        List<List<CertificatePemBlock>> bundles = splitAfterKeys(CertificatePemBlock.scan(text));
        if (bundles.isEmpty()) {
            problems.add(problem(SSL_CERTS, "holds no PEM block (expected -----BEGIN CERTIFICATE----- ... "
                    + "then the private key)"));
        }
        for (int i = 0; i < bundles.size(); i++) {
            add(SSL_CERTS + "#" + (i + 1), bundles.get(i), false);
        }
    }

    private void readSingle(String variable, String text) {
        add(variable, CertificatePemBlock.scan(text), true);
    }

    /**
     * A bundle ends with its key. A key that stands alone right before certificates that have none is one
     * bundle written key-first; it is kept together so that the problem says so, instead of two confusing ones.
     */
    static List<List<CertificatePemBlock>> splitAfterKeys(List<CertificatePemBlock> blocks) {
        List<List<CertificatePemBlock>> bundles = new ArrayList<>();
        List<CertificatePemBlock> current = new ArrayList<>();
        for (CertificatePemBlock block : blocks) {
            current.add(block);
            if (block.isPrivateKey()) {
                bundles.add(current);
                current = new ArrayList<>();
            }
        }
        if (!current.isEmpty()) {
            bundles.add(current);
        }
        for (int i = 0; i + 1 < bundles.size(); i++) {
            List<CertificatePemBlock> keyOnly = bundles.get(i);
            List<CertificatePemBlock> next = bundles.get(i + 1);
            if (keyOnly.stream().noneMatch(CertificatePemBlock::isCertificate)
                    && next.stream().anyMatch(CertificatePemBlock::isCertificate)
                    && next.stream().noneMatch(CertificatePemBlock::isPrivateKey)) {
                keyOnly.addAll(bundles.remove(i + 1));
            }
        }
        return bundles;
    }

    private void add(String origin, List<CertificatePemBlock> blocks, boolean oneBundle) {
        if (parser == null) {
            parser = new CertificateBundleParser();
        }
        try {
            Certificate certificate = parser.parse(origin, blocks, oneBundle);
            certificates.add(certificate);
            warnAbout(certificate);
        } catch (CertificateBundleParser.Rejected e) {
            problems.add(problem(origin, "skipped: " + e.getMessage()));
        }
    }

    private void warnAbout(Certificate certificate) {
        X509Certificate leaf = certificate.leaf();
        String who = CertificateBundleParser.describe(leaf);
        CertificateExpiry.warning(certificate.notAfter(), now).ifPresent(w ->
                warnings.add(problem(certificate.origin(), "certificate " + who + " " + w)));
        Instant notBefore = leaf.getNotBefore().toInstant();
        if (notBefore.isAfter(now)) {
            warnings.add(problem(certificate.origin(), "certificate " + who + " is not valid before "
                    + CertificateExpiry.day(notBefore)));
        }
        List<X509Certificate> chain = certificate.chain();
        for (int i = 0; i + 1 < chain.size(); i++) {
            if (!chain.get(i).getIssuerX500Principal().equals(chain.get(i + 1).getSubjectX500Principal())) {
                warnings.add(problem(certificate.origin(), "certificate " + (i + 2) + " of the bundle did not issue "
                        + "certificate " + (i + 1) + "; intermediates belong in order, each after the one it "
                        + "signed, or clients may not build the chain"));
                break;
            }
        }
        if (certificate.dnsNames().isEmpty()) {
            warnings.add(problem(certificate.origin(), "certificate " + who + " names no DNS host (no host name "
                    + "in CN or subject alternative names); SNI never selects it, it serves only as the default"));
        }
    }

    private TlsSettings settings(Map<String, String> environment) {
        GlobalSettings.Tls global = GlobalSettings.read(subject, environment, problems);
        List<String> ciphers = List.of();
        String cipherVariable = SSL_CIPHERS;
        String cipherText = environment.get(SSL_CIPHERS);
        if ((cipherText == null || cipherText.isBlank()) && global.ciphers().isPresent()) {
            cipherVariable = GlobalSettings.VARIABLE; // KONTENA_LB_SSL_CIPHERS, when both are given
            cipherText = global.ciphers().get();
        }
        if (cipherText != null && !cipherText.isBlank()) {
            CipherList parsed = CipherList.parse(cipherText);
            if (!parsed.unknown().isEmpty()) {
                String fallback = parsed.suites().isEmpty()
                        ? "; none is left, so the default cipher list is used"
                        : "; they are left out";
                problems.add(new Problem(subject, cipherVariable, cipherText, "not cipher suites this TLS provider "
                        + "supports: " + String.join(", ", parsed.unknown()) + fallback
                        + " (give suite names separated by ':', e.g. ECDHE-RSA-AES128-GCM-SHA256)"));
            }
            ciphers = parsed.suites();
            warnAboutUnsignableKeys(ciphers);
        }

        boolean http2 = true;
        String http2Text = environment.get(HTTP2);
        if (http2Text != null && !http2Text.isBlank()) {
            switch (http2Text.trim().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on", "1" -> http2 = true;
                case "false", "no", "off", "0" -> http2 = false;
                default -> problems.add(new Problem(subject, HTTP2, http2Text,
                        "must be true or false; HTTP/2 stays on"));
            }
        }

        Optional<String> defaultCertificate = Optional.ofNullable(environment.get(DEFAULT_CERT))
                .map(String::trim).filter(s -> !s.isEmpty());
        if (defaultCertificate.isPresent() && !certificates.isEmpty()
                && DefaultCertificate.selected(certificates, defaultCertificate.get()).isEmpty()) {
            problems.add(new Problem(subject, DEFAULT_CERT, defaultCertificate.get(), "names no served "
                    + "certificate (give an origin such as SSL_CERTS#1 or SSL_CERT_www, or a DNS name); the default "
                    + "is the first certificate, " + certificates.get(0).origin()));
        }
        return new TlsSettings(ciphers, defaultCertificate, http2, global.protocols());
    }

    /**
     * A TLS 1.2 suite names how the server signs (ECDSA or RSA); a certificate whose key no listed suite can sign
     * with fails every TLS 1.2 handshake, which a client reports only as a handshake failure.
     */
    private void warnAboutUnsignableKeys(List<String> suites) {
        List<String> tls12 = suites.stream()
                .filter(c -> !c.startsWith("TLS_AES_") && !c.startsWith("TLS_CHACHA20_")).toList();
        if (tls12.isEmpty()) {
            return;
        }
        boolean ecdsa = tls12.stream().anyMatch(c -> c.contains("ECDSA"));
        boolean rsa = tls12.stream().anyMatch(c -> !c.contains("ECDSA"));
        for (Certificate c : certificates) {
            boolean ecKey = c.key().getAlgorithm().startsWith("EC");
            if (ecKey ? !ecdsa : !rsa) {
                warnings.add(problem(c.origin(), "has an " + (ecKey ? "EC" : "RSA") + " key, but no suite of "
                        + SSL_CIPHERS + " signs with " + (ecKey ? "ECDSA" : "RSA") + " (such as "
                        + (ecKey ? "ECDHE-ECDSA-AES128-GCM-SHA256" : "ECDHE-RSA-AES128-GCM-SHA256")
                        + "): TLS 1.2 clients cannot connect with it, only TLS 1.3 clients"));
            }
        }
    }

    private Problem problem(String origin, String message) {
        return new Problem(subject, origin, "", message);
    }
}
