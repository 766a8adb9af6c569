package io.kontena.lb.proxy.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/** OpenSSL (Netty's BoringSSL build) when it loads on this machine, the JDK's TLS otherwise. */
public final class TlsProvider {
    private TlsProvider() {
    }

    public static SslProvider preferred() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** For the startup log: which provider serves TLS, and if not OpenSSL, why not. */
    public static String describe() {
        if (OpenSsl.isAvailable()) {
            return "TLS by " + OpenSsl.versionString();
        }
        Throwable cause = OpenSsl.unavailabilityCause();
        return "TLS by the JDK (OpenSSL is not available: " + (cause == null ? "unknown reason" : cause) + ")";
    }
}
