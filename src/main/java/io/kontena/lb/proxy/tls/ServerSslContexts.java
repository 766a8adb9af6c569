package io.kontena.lb.proxy.tls;

import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.config.Certificate;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslPrivateKeyMethod;
import io.netty.handler.ssl.OpenSslX509KeyManagerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Builds the server side of TLS for one certificate, the same way for every certificate. */
final class ServerSslContexts {
    /** RFC 8446's suites, named alike by OpenSSL and the JDK; the first three are what both offer by default. */
    static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");
    /** Sessions kept per certificate for resumption by ID; tickets resume the rest. */
    static final long SESSION_CACHE_SIZE = 20_480;
    static final long SESSION_TIMEOUT_SECONDS = 300;

    private static final ApplicationProtocolConfig H2_AND_HTTP11 = alpn(
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    private static final ApplicationProtocolConfig HTTP11 = alpn(ApplicationProtocolNames.HTTP_1_1);

    private final SslProvider provider;
    private final Function<PrivateKey, OpenSslPrivateKeyMethod> keyMethods;

    /** @param keyMethods who signs with a key in BoringSSL's place (null: BoringSSL itself); for OPENSSL only */
    ServerSslContexts(SslProvider provider, Function<PrivateKey, OpenSslPrivateKeyMethod> keyMethods) {
        this.provider = provider;
        this.keyMethods = keyMethods;
    }

    ServerSslContexts(SslProvider provider) {
        this(provider, RsaKeyMethod::forKey);
    }

    SslProvider provider() {
        return provider;
    }

    /** @param http for HTTPS (ALPN offers HTTP/2 as the settings say, and HTTP/1.1); else no ALPN at all */
    SslContext build(Certificate certificate, TlsSettings settings, boolean http) throws SSLException {
        X509Certificate[] chain = certificate.chain().toArray(new X509Certificate[0]);
        OpenSslPrivateKeyMethod keyMethod = provider == SslProvider.OPENSSL ? keyMethods.apply(certificate.key()) : null;
        SslContextBuilder builder = keyMethod == null
                ? SslContextBuilder.forServer(certificate.key(), chain)
                : SslContextBuilder.forServer(keyless(chain)).option(OpenSslContextOption.PRIVATE_KEY_METHOD, keyMethod);
        // The two settings below cut building a context from ~16 ms to ~0.3 ms, which counts with many
        // certificates. No client certificates are asked for, yet without a trust list of its own each context
        // would name the JDK's ~140 root certificates as the ones to ask for, which BoringSSL parses each time.
        // The key goes into a key store for Netty to read back: JKS keeps it at once, where PKCS#12 (the
        // default) first encrypts it with 10,000 rounds of a key derivation.
        builder.trustManager(new X509Certificate[0])
                .keyStoreType("JKS")
                .sslProvider(provider)
                .protocols(settings.protocols())
                .sessionCacheSize(SESSION_CACHE_SIZE)
                .sessionTimeout(SESSION_TIMEOUT_SECONDS);
        if (http) {
            builder.applicationProtocolConfig(settings.http2() ? H2_AND_HTTP11 : HTTP11);
        }
        if (!settings.ciphers().isEmpty()) {
            builder.ciphers(withTls13(settings.ciphers()));
        } else if (http && settings.http2()) {
            // RFC 7540 9.2.2 forbids many older suites under h2; offer only the ones it allows
            builder.ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE);
        }
        return builder.build();
    }

    /**
     * The operator's list chooses the TLS 1.2 suites, as HAProxy's cipher list does. TLS 1.3 keeps its standard
     * suites whatever the list says: a list without one would turn TLS 1.3 off, and BoringSSL does not let them
     * be narrowed, so narrowing them on the JDK only would make the providers differ.
     */
    static List<String> withTls13(List<String> ciphers) {
        List<String> all = new ArrayList<>();
        for (String c : ciphers) {
            if (!c.startsWith("TLS_AES_") && !c.startsWith("TLS_CHACHA20_")) {
                all.add(c);
            }
        }
        all.addAll(TLS13_SUITES);
        return all;
    }

    /** The chain without its key, which BoringSSL would otherwise sign with whatever method is set. */
    private static KeyManagerFactory keyless(X509Certificate[] chain) throws SSLException {
        try {
            return OpenSslX509KeyManagerFactory.newKeyless(chain);
        } catch (GeneralSecurityException | IOException e) {
            throw new SSLException("cannot hold the certificate chain for signing elsewhere: " + e, e);
        }
    }

    private static ApplicationProtocolConfig alpn(String... protocols) {
        return new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                // a client that offers none of ours still gets HTTP/1.1, as without ALPN
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                protocols);
    }
}
