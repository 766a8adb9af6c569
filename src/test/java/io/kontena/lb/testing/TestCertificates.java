package io.kontena.lb.testing;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** Certificates made at test time: self-signed, or issued by a test CA, with the names and key kind asked for. */
public final class TestCertificates {
    public enum KeyType { RSA, EC }

    /** How the private key is written: PKCS#1 / SEC1 ("RSA/EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). */
    public enum KeyForm { TRADITIONAL, PKCS8 }

    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());
    private static KeyPair sharedRsa;
    private static KeyPair sharedEc;

    private TestCertificates() {
    }

    /** Keys are slow to make (RSA especially); certificates that need not differ in key share one. */
    public static synchronized KeyPair sharedKey(KeyType type) {
        if (type == KeyType.RSA) {
            return sharedRsa == null ? sharedRsa = newKey(type) : sharedRsa;
        }
        return sharedEc == null ? sharedEc = newKey(type) : sharedEc;
    }

    public static KeyPair newKey(KeyType type) {
        try {
            if (type == KeyType.RSA) {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048);
                return g.generateKeyPair();
            }
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Builder cert(String commonName) {
        return new Builder(commonName);
    }

    public static final class Builder {
        private final String commonName;
        private final List<String> sans = new ArrayList<>();
        private KeyPair key = sharedKey(KeyType.EC);
        private Instant notBefore = Instant.now().minus(Duration.ofDays(1));
        private Instant notAfter = Instant.now().plus(Duration.ofDays(365));
        private Issued issuer;
        private boolean ca;

        private Builder(String commonName) {
            this.commonName = commonName;
        }

        public Builder sans(String... names) {
            sans.addAll(List.of(names));
            return this;
        }

        public Builder key(KeyType type) {
            this.key = sharedKey(type);
            return this;
        }

        public Builder key(KeyPair pair) {
            this.key = pair;
            return this;
        }

        public Builder valid(Instant from, Instant until) {
            this.notBefore = from;
            this.notAfter = until;
            return this;
        }

        public Builder expiresIn(Duration d) {
            this.notAfter = Instant.now().plus(d);
            if (!notBefore.isBefore(notAfter)) {
                notBefore = notAfter.minus(Duration.ofDays(30));
            }
            return this;
        }

        public Builder issuedBy(Issued ca) {
            this.issuer = ca;
            return this;
        }

        public Builder ca() {
            this.ca = true;
            return this;
        }

        public Issued build() {
            try {
                X500Name subject = new X500Name("CN=" + commonName + ",O=kontena-lb tests");
                X500Name issuerName = issuer == null ? subject
                        : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
                JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
                        BigInteger.valueOf(SERIALS.incrementAndGet()), Date.from(notBefore), Date.from(notAfter),
                        subject, key.getPublic());
                if (!sans.isEmpty()) {
                    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.stream()
                            .map(n -> new GeneralName(n.matches("[0-9.]+") ? GeneralName.iPAddress : GeneralName.dNSName,
                                    n)).toArray(GeneralName[]::new)));
                }
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
                KeyPair signer = issuer == null ? key : issuer.keyPair();
                String algorithm = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
                X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                        b.build(new JcaContentSignerBuilder(algorithm).build(signer.getPrivate())));
                return new Issued(cert, key);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public record Issued(X509Certificate certificate, KeyPair keyPair) {
        public String certificatePem() {
            return pem(certificate);
        }

        public String keyPem(KeyForm form) {
            try {
                if (form == KeyForm.PKCS8) {
                    return pem(new JcaPKCS8Generator(keyPair.getPrivate(), null));
                }
                PrivateKeyInfo info = PrivateKeyInfo.getInstance(keyPair.getPrivate().getEncoded());
                if (keyPair.getPrivate().getAlgorithm().equals("RSA")) {
                    return pem(new PemObject("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded()));
                }
                // SEC1 as openssl writes it: curve and public key inside, which the JDK's PKCS#8 form leaves out
                ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
                SubjectPublicKeyInfo publicInfo = SubjectPublicKeyInfo.getInstance(keyPair.getPublic().getEncoded());
                ECPrivateKey sec1 = new ECPrivateKey(256, inner.getKey(), publicInfo.getPublicKeyData(),
                        info.getPrivateKeyAlgorithm().getParameters());
                return pem(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** Certificate then key, as a PEM file for a load balancer. */
        public String bundle(KeyForm form) {
            return certificatePem() + keyPem(form);
        }

        public String bundle() {
            return bundle(KeyForm.TRADITIONAL);
        }
    }

    /** The certificate a TLS server on loopback presents for a name, or null when none is (yet). */
    public static X509Certificate served(int port, String sni) {
        try (SSLSocket socket = (SSLSocket) TrustAll.context().getSocketFactory().createSocket("127.0.0.1", port)) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(sni)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        } catch (IOException e) {
            return null;
        }
    }

    private static String pem(Object o) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }
}
