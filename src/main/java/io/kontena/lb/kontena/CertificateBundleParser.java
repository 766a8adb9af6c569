package io.kontena.lb.kontena;

import io.kontena.lb.config.Certificate;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.ASN1BitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import java.io.IOException;
import java.io.StringReader;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns the PEM blocks of one bundle into a {@link Certificate}, or says why it cannot.
 * Reasons name the block by position and type only: a bundle holds a private key, and none of it may leak.
 */
final class CertificateBundleParser {

    /** A host name or a one-label wildcard, as SNI can ask for it. */
    private static final Pattern HOST_NAME = Pattern.compile(
            "(\\*\\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*");
    private static final int SAN_DNS_NAME = 2;

    private final JcaX509CertificateConverter certificates = new JcaX509CertificateConverter();
    private final JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
    private final SecureRandom random = new SecureRandom();

    /** Why a bundle was skipped, in words for the operator. */
    static final class Rejected extends Exception {
        Rejected(String reason) {
            super(reason, null, false, false);
        }
    }

    /** @param oneBundle true when the blocks came from a value that holds exactly one bundle */
    Certificate parse(String origin, List<CertificatePemBlock> blocks, boolean oneBundle) throws Rejected {
        if (blocks.isEmpty()) {
            throw new Rejected("holds no PEM block (expected -----BEGIN CERTIFICATE----- ... then the private key)");
        }
        List<X509Certificate> chain = new ArrayList<>();
        ReadKey key = null;
        int position = 0;
        for (CertificatePemBlock block : blocks) {
            position++;
            String which = "block " + position + " (" + block.type() + ")";
            if (!block.terminated()) {
                throw new Rejected(which + " has no END line; the value looks cut short");
            }
            if (block.isParameters()) {
                continue;
            }
            if (key != null) {
                throw new Rejected(block.isPrivateKey()
                        ? "holds more than one private key; give one bundle per certificate"
                        : "the private key must come last, after the certificate and its intermediates");
            }
            if (block.isCertificate()) {
                chain.add(certificate(which, block));
            } else if (block.isPrivateKey()) {
                key = privateKey(which, block);
            } else {
                throw new Rejected(which + " is neither a certificate nor a private key");
            }
        }
        if (chain.isEmpty()) {
            throw new Rejected(key != null && !oneBundle
                    ? "holds a private key but no certificate before it; the certificate must come first"
                    : "holds no certificate");
        }
        if (key == null) {
            throw new Rejected("holds no private key; a bundle is the certificate, any intermediates, then the key");
        }
        X509Certificate leaf = chain.get(0);
        checkKeyMatches(leaf, key);
        return new Certificate(origin, chain, key.key(), dnsNames(leaf), leaf.getNotAfter().toInstant());
    }

    private X509Certificate certificate(String which, CertificatePemBlock block) throws Rejected {
        Object parsed = read(which, block);
        if (!(parsed instanceof X509CertificateHolder holder)) {
            throw new Rejected(which + " is not an X.509 certificate");
        }
        try {
            return certificates.getCertificate(holder);
        } catch (java.security.cert.CertificateException e) {
            throw new Rejected(which + " is not a valid X.509 certificate");
        }
    }

    /** The key, and as it was written, which may hold a copy of its public key. */
    private record ReadKey(PrivateKey key, PrivateKeyInfo info) {
    }

    private ReadKey privateKey(String which, CertificatePemBlock block) throws Rejected {
        Object parsed = read(which, block);
        PrivateKeyInfo info;
        if (parsed instanceof PEMKeyPair pair) {
            info = pair.getPrivateKeyInfo();
        } else if (parsed instanceof PrivateKeyInfo plain) {
            info = plain;
        } else if (parsed instanceof PKCS8EncryptedPrivateKeyInfo || parsed instanceof PEMEncryptedKeyPair) {
            throw new Rejected(which + " is encrypted; give the key without a passphrase (openssl pkey -in key.pem)");
        } else {
            throw new Rejected(which + " is not a private key");
        }
        PrivateKey key;
        try {
            key = keys.getPrivateKey(info);
        } catch (Exception e) {
            throw new Rejected(which + " is a private key of a kind that cannot be read");
        }
        if (!key.getAlgorithm().equals("RSA") && !key.getAlgorithm().equals("EC")) {
            throw new Rejected(which + " is a " + key.getAlgorithm() + " key; use an RSA or EC key");
        }
        return new ReadKey(key, info);
    }

    private static Object read(String which, CertificatePemBlock block) throws Rejected {
        try (PEMParser parser = new PEMParser(new StringReader(block.text()))) {
            Object parsed = parser.readObject();
            if (parsed == null) {
                throw new Rejected(which + " does not parse as PEM");
            }
            return parsed;
        } catch (Rejected e) {
            throw e;
        } catch (Exception e) {
            // The parser's own message may quote the content; say only where it failed.
            throw new Rejected(which + " does not parse: its base64 or DER content is damaged");
        }
    }

    private void checkKeyMatches(X509Certificate leaf, ReadKey read) throws Rejected {
        PrivateKey key = read.key();
        PublicKey publicKey = leaf.getPublicKey();
        String mismatch = "the private key does not match the certificate " + describe(leaf);
        if (!publicKey.getAlgorithm().equals(key.getAlgorithm())) {
            throw new Rejected(mismatch + " (an " + key.getAlgorithm() + " key for an "
                    + publicKey.getAlgorithm() + " certificate)");
        }
        // RSA: the modulus says it without a signature; EC: the key's own copy of its public key (RFC 5915,
        // which OpenSSL writes), else a signature, the portable check but 1 ms of a core (many certificates)
        if (key instanceof RSAPrivateKey rsa && publicKey instanceof RSAPublicKey rsaPublic) {
            boolean same = rsa.getModulus().equals(rsaPublic.getModulus())
                    && (!(rsa instanceof RSAPrivateCrtKey crt)
                        || crt.getPublicExponent().equals(rsaPublic.getPublicExponent()));
            if (!same) {
                throw new Rejected(mismatch);
            }
            return;
        }
        if (sameEcPublicKey(read.info(), publicKey)) {
            return;
        }
        try {
            byte[] challenge = new byte[32];
            random.nextBytes(challenge);
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            if (!verifier.verify(signature)) {
                throw new Rejected(mismatch);
            }
        } catch (GeneralSecurityException e) {
            throw new Rejected(mismatch);
        }
    }

    /** False when the key holds no copy of its public key, or one written otherwise than the certificate's. */
    private static boolean sameEcPublicKey(PrivateKeyInfo info, PublicKey certificateKey) {
        try {
            ASN1BitString own = ECPrivateKey.getInstance(info.parsePrivateKey()).getPublicKey();
            SubjectPublicKeyInfo certificate = SubjectPublicKeyInfo.getInstance(certificateKey.getEncoded());
            return own != null
                    && info.getPrivateKeyAlgorithm().equals(certificate.getAlgorithm())
                    && Arrays.equals(own.getOctets(), certificate.getPublicKeyData().getOctets());
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The subject CN when it is a host name, then the DNS names of the SAN extension, lower case. */
    static List<String> dnsNames(X509Certificate leaf) {
        Set<String> names = new LinkedHashSet<>();
        String cn = commonName(leaf);
        if (cn != null) {
            addHostName(names, cn);
        }
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(SAN_DNS_NAME).equals(san.get(0))
                            && san.get(1) instanceof String name) {
                        addHostName(names, name);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // an unreadable SAN extension leaves the CN as the only name
        }
        return List.copyOf(names);
    }

    static String commonName(X509Certificate certificate) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        RDN[] cns = subject.getRDNs(BCStyle.CN);
        return cns.length == 0 ? null : IETFUtils.valueToString(cns[0].getFirst().getValue());
    }

    /** For messages: the subject CN, or the whole subject when there is none. Public data only. */
    static String describe(X509Certificate certificate) {
        String cn = commonName(certificate);
        return cn != null ? "CN=" + cn : "'" + certificate.getSubjectX500Principal().getName() + "'";
    }

    private static void addHostName(Set<String> names, String candidate) {
        String name = candidate.trim().toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (HOST_NAME.matcher(name).matches()) {
            names.add(name);
        }
    }
}
