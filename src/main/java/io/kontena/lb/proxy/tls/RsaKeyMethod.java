package io.kontena.lb.proxy.tls;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import io.netty.handler.ssl.OpenSslPrivateKeyMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Cipher;
import javax.net.ssl.SSLEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.List;

/**
 * Makes BoringSSL's handshakes sign with a certificate's RSA key through AWS-LC (the Amazon Corretto Crypto
 * Provider) rather than with BoringSSL's own RSA. The signature is most of a full handshake's cost, and AWS-LC
 * uses the AVX-512 IFMA instructions of recent x86 CPUs, as OpenSSL 3 does and BoringSSL does not: an RSA-2048
 * signature costs about 300 µs in place of about 500 µs here. Without IFMA AWS-LC is no faster (a handshake cost
 * 744 against 723 µs of CPU with IFMA masked by OPENSSL_ia32cap, 2026-12-07): there BoringSSL keeps signing, and
 * AWS-LC is not even loaded.
 */
final class RsaKeyMethod implements OpenSslPrivateKeyMethod {
    private static final Logger log = LoggerFactory.getLogger(RsaKeyMethod.class);

    private final PrivateKey key;

    private RsaKeyMethod(PrivateKey key) {
        this.key = key;
    }

    /** The method for this key, or null to leave the key to BoringSSL: not RSA, or AWS-LC is no faster here. */
    static OpenSslPrivateKeyMethod forKey(PrivateKey key) {
        return key.getAlgorithm().equals("RSA") && Cpu.IFMA ? withAwsLc(key) : null;
    }

    /** The method whatever the CPU; null when AWS-LC does not load here or does not take the key. */
    static OpenSslPrivateKeyMethod withAwsLc(PrivateKey key) {
        if (!Provider.AVAILABLE) {
            return null;
        }
        try {
            return new RsaKeyMethod(KeyFactory.getInstance("RSA", Provider.ACCP)
                    .generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded())));
        } catch (GeneralSecurityException | RuntimeException e) {
            log.warn("RSA key left to BoringSSL: AWS-LC does not take it ({})", e.toString());
            return null;
        }
    }

    /** @param input the message itself, which the signature hashes as the algorithm says */
    @Override
    public byte[] sign(SSLEngine engine, int algorithm, byte[] input) throws GeneralSecurityException {
        Signature signature = signature(algorithm);
        signature.initSign(key);
        signature.update(input);
        return signature.sign();
    }

    /** TLS 1.2's RSA key exchange: BoringSSL checks the padding itself, so the decryption is raw. */
    @Override
    public byte[] decrypt(SSLEngine engine, byte[] input) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("RSA/ECB/NoPadding", Provider.ACCP);
        cipher.init(Cipher.DECRYPT_MODE, key);
        return cipher.doFinal(input);
    }

    /** The schemes TLS 1.2 and 1.3 sign with an RSA key (the tcnative constants are not compile-time ones). */
    private static Signature signature(int algorithm) throws GeneralSecurityException {
        if (algorithm == SSL_SIGN_RSA_PSS_RSAE_SHA256) {
            return pss("SHA-256", MGF1ParameterSpec.SHA256, 32);
        } else if (algorithm == SSL_SIGN_RSA_PSS_RSAE_SHA384) {
            return pss("SHA-384", MGF1ParameterSpec.SHA384, 48);
        } else if (algorithm == SSL_SIGN_RSA_PSS_RSAE_SHA512) {
            return pss("SHA-512", MGF1ParameterSpec.SHA512, 64);
        } else if (algorithm == SSL_SIGN_RSA_PKCS1_SHA256) {
            return Signature.getInstance("SHA256withRSA", Provider.ACCP);
        } else if (algorithm == SSL_SIGN_RSA_PKCS1_SHA384) {
            return Signature.getInstance("SHA384withRSA", Provider.ACCP);
        } else if (algorithm == SSL_SIGN_RSA_PKCS1_SHA512) {
            return Signature.getInstance("SHA512withRSA", Provider.ACCP);
        } else if (algorithm == SSL_SIGN_RSA_PKCS1_SHA1) {
            return Signature.getInstance("SHA1withRSA", Provider.ACCP);
        }
        // TLS 1.0 and 1.1's MD5+SHA1 scheme: those versions are never offered (TlsSettings)
        throw new GeneralSecurityException("RSA signature scheme " + algorithm + " is not one of TLS 1.2 or 1.3");
    }

    /** RFC 8446 4.2.3: RSASSA-PSS with MGF1 of the same digest and a salt as long as the digest. */
    private static Signature pss(String digest, MGF1ParameterSpec mgf1, int saltLength)
            throws GeneralSecurityException {
        Signature signature = Signature.getInstance("RSASSA-PSS", Provider.ACCP);
        signature.setParameter(new PSSParameterSpec(digest, "MGF1", mgf1, saltLength, 1));
        return signature;
    }

    /** Whether the flags of /proc/cpuinfo name this feature (each processor's line is the same). */
    static boolean cpuHas(List<String> cpuinfo, String feature) {
        for (String line : cpuinfo) {
            if (line.startsWith("flags")) {
                return Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+")).contains(feature);
            }
        }
        return false;
    }

    private static final class Cpu {
        static final boolean IFMA = check();

        private static boolean check() {
            boolean ifma;
            try {
                ifma = cpuHas(Files.readAllLines(Path.of("/proc/cpuinfo")), "avx512ifma");
            } catch (IOException | RuntimeException e) {
                ifma = false;
            }
            if (!ifma) {
                log.info("RSA signatures by BoringSSL: the CPU has no AVX-512 IFMA, without which AWS-LC is no faster");
            }
            return ifma;
        }
    }

    /**
     * Loaded with the first RSA certificate, not at start: loading its library and running its self-tests costs
     * about a quarter of a second of a core.
     */
    private static final class Provider {
        static final AmazonCorrettoCryptoProvider ACCP;
        static final boolean AVAILABLE;

        static {
            AmazonCorrettoCryptoProvider accp = null;
            Throwable error;
            try {
                accp = AmazonCorrettoCryptoProvider.INSTANCE;
                error = accp.getLoadingError();
                if (error == null) {
                    accp.assertHealthy();
                    // Oracle's JDKs take a Cipher only from a provider signed by their JCE certificate, which the
                    // shaded jar no longer is: TLS 1.2's RSA key exchange would then fail (OpenJDK builds do not ask)
                    Cipher.getInstance("RSA/ECB/NoPadding", accp);
                }
            } catch (LinkageError | RuntimeException | GeneralSecurityException e) {
                error = e;
            }
            if (error != null) {
                log.info("RSA signatures by BoringSSL: AWS-LC does not load here ({})", error.toString());
            } else {
                log.info("RSA signatures by AWS-LC {} (Amazon Corretto Crypto Provider {})",
                        accp.getAwsLcVersionStr(), accp.getVersionStr());
            }
            ACCP = accp;
            AVAILABLE = error == null;
        }
    }
}
