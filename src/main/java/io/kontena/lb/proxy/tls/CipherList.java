package io.kontena.lb.proxy.tls;

import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.SSLContext;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A cipher list as operators write it for HAProxy or OpenSSL ({@code ECDHE-RSA-AES128-GCM-SHA256:...}),
 * checked against what the TLS provider can do.
 *
 * <p>Suites are taken by name, OpenSSL or IANA spelling. Exclusions ({@code !aNULL}, {@code -MD5}) and
 * directives ({@code @STRENGTH}) are passed over: the result is an explicit allow-list, which they cannot widen.
 * Aliases such as {@code HIGH} or {@code ECDHE+AESGCM} are reported as unknown, so that the operator learns the
 * list does not mean what it would mean to OpenSSL, instead of getting a silently different one.
 *
 * @param suites  the suites that will be offered, in the order given, named as the provider wants them
 * @param unknown the entries that are no suite this provider supports
 */
public record CipherList(List<String> suites, List<String> unknown) {

    public CipherList {
        suites = List.copyOf(suites);
        unknown = List.copyOf(unknown);
    }

    public static CipherList parse(String text) {
        return parse(text, TlsProvider.preferred());
    }

    public static CipherList parse(String text, SslProvider provider) {
        Set<String> supported = provider == SslProvider.JDK ? jdkSuites() : Set.of();
        Set<String> suites = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String entry : text.trim().split("[:,\\s]+")) {
            if (entry.isEmpty() || "!-@".indexOf(entry.charAt(0)) >= 0) {
                continue;
            }
            // the JDK provider takes only IANA names; OpenSSL takes either and converts
            String name = provider == SslProvider.JDK ? javaName(entry) : entry;
            boolean available = provider == SslProvider.JDK
                    ? supported.contains(name)
                    : OpenSsl.isCipherSuiteAvailable(name);
            if (available) {
                suites.add(name);
            } else {
                unknown.add(entry);
            }
        }
        return new CipherList(List.copyOf(suites), unknown);
    }

    private static String javaName(String suite) {
        if (suite.startsWith("TLS_") || suite.startsWith("SSL_")) {
            return suite;
        }
        String converted = CipherSuiteConverter.toJava(suite, "TLS");
        return converted == null ? suite : converted;
    }

    private static Set<String> jdkSuites() {
        try {
            return Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK offers no default TLS context", e);
        }
    }
}
