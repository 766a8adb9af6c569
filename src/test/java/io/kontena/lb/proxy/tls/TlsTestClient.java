package io.kontena.lb.proxy.tls;

import io.kontena.lb.testing.TrustAll;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A JDK TLS client that trusts any certificate, so a test can look at which one it was given.
 *
 * <p>Each connection has a session cache of its own unless sessions are shared: the JDK client resumes a session
 * by host and port even when it asks for another SNI name, and then sees the first name's certificate again.
 */
final class TlsTestClient {
    private final SSLContext shared;

    TlsTestClient() {
        this(false);
    }

    TlsTestClient(boolean shareSessions) {
        shared = shareSessions ? newContext() : null;
    }

    private static SSLContext newContext() {
        return TrustAll.context(); // a context per connection unless shared: its own session cache
    }

    /** The context of the next connection, for a test that makes its sockets itself. */
    SSLContext context() {
        return shared != null ? shared : newContext();
    }

    /** @param sni the server name to send, or null to send none */
    Connection connect(int port, String sni, List<String> alpn, List<String> protocols, List<String> ciphers)
            throws IOException {
        SSLSocket socket = (SSLSocket) context().getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        if (!alpn.isEmpty()) {
            parameters.setApplicationProtocols(alpn.toArray(new String[0]));
        }
        if (!protocols.isEmpty()) {
            parameters.setProtocols(protocols.toArray(new String[0]));
        }
        if (!ciphers.isEmpty()) {
            parameters.setCipherSuites(ciphers.toArray(new String[0]));
        }
        socket.setSSLParameters(parameters);
        try {
            socket.startHandshake();
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new Connection(socket);
    }

    Connection connect(int port, String sni) throws IOException {
        return connect(port, sni, List.of(), List.of(), List.of());
    }

    /** The certificate served for a name, on a connection of its own. */
    X509Certificate certificateFor(int port, String sni) throws IOException {
        try (Connection c = connect(port, sni)) {
            return c.peer();
        }
    }

    static final class Connection implements AutoCloseable {
        final SSLSocket socket;
        private final BufferedReader in;

        Connection(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        }

        X509Certificate peer() throws IOException {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }

        /** The server's answer: "protocol sni-name". */
        String ask() throws IOException {
            socket.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String line = in.readLine();
            if (line == null) {
                throw new IOException("the server closed the connection");
            }
            return line;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

}
