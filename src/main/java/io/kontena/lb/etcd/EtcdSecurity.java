package io.kontena.lb.etcd;

import io.etcd.jetcd.ClientBuilder;
import io.kontena.lb.config.Certificate;
import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.kontena.ConfigException;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.nio.file.Files;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How an etcd client proves itself and checks etcd, from the variables that etcdctl reads, so that a machine set up
 * for etcdctl needs nothing more: TLS for {@code https://} URLs, trusting {@value #CA} (else the JDK's trusted
 * authorities), with the client certificate {@value #CERT} and its key {@value #KEY} when etcd asks for one
 * ({@code --client-cert-auth}); and etcd's own users, {@value #USER} as {@code name:password}.
 */
final class EtcdSecurity {
    private static final Logger log = LoggerFactory.getLogger(EtcdSecurity.class);
    static final String CA = "ETCDCTL_CACERT";
    static final String CERT = "ETCDCTL_CERT";
    static final String KEY = "ETCDCTL_KEY";
    static final String USER = "ETCDCTL_USER";

    private EtcdSecurity() {
    }

    /**
     * @throws ConfigException naming the variable and what is wrong with it: a file that cannot be read, a
     *                         certificate without its key, TLS files for plain {@code http://} URLs, mixed schemes
     */
    static void configure(ClientBuilder builder, List<String> endpoints, Map<String, String> env) {
        boolean tls = endpoints.stream().anyMatch(u -> u.startsWith("https://"));
        if (tls && endpoints.stream().anyMatch(u -> !u.startsWith("https://"))) {
            throw new ConfigException("etcd URLs " + String.join(",", endpoints) + ": give all of them with https:// "
                    + "or all with http://");
        }
        Optional<File> ca = file(env, CA);
        Optional<File> cert = file(env, CERT);
        Optional<File> key = file(env, KEY);
        if (cert.isPresent() != key.isPresent()) {
            throw new ConfigException(CERT + " and " + KEY + " go together: the client certificate and its private "
                    + "key, PEM files; " + (cert.isPresent() ? KEY : CERT) + " is not set");
        }
        if (!tls && (ca.isPresent() || cert.isPresent())) {
            throw new ConfigException((ca.isPresent() ? CA : CERT) + " is set, for TLS to etcd, but the etcd URLs "
                    + String.join(",", endpoints) + " are plain http://: give etcd's https:// client URLs");
        }
        if (tls) {
            try {
                Optional<Certificate> client = cert.isEmpty() ? Optional.empty()
                        : Optional.of(CertificateBundles.pair(CERT + " and " + KEY, Files.readString(cert.get().toPath()),
                                Files.readString(key.get().toPath())));
                builder.sslContext((SslContextBuilder ssl) -> {
                    ca.ifPresent(ssl::trustManager);
                    client.ifPresent(c -> ssl.keyManager(c.key(), c.chain().toArray(X509Certificate[]::new)));
                });
            } catch (Exception e) {
                List<String> given = new ArrayList<>();
                ca.ifPresent(f -> given.add(CA + "=" + f));
                cert.ifPresent(f -> given.addAll(List.of(CERT + "=" + f, KEY + "=" + key.get())));
                throw new ConfigException("TLS to etcd: cannot use " + (given.isEmpty() ? "the JDK's trusted authorities"
                        : String.join(", ", given)) + ": " + e.getMessage() + " (PEM files are expected: the "
                        + "authorities that signed etcd's certificate; the client certificate and its private key)", e);
            }
        }
        String user = env.get(USER);
        if (user != null && !user.isBlank()) {
            int colon = user.indexOf(':');
            if (colon <= 0) {
                throw new ConfigException(USER + ": expected name:password, as etcdctl --user takes it");
            }
            builder.user(EtcdCalls.bytes(user.substring(0, colon))).password(EtcdCalls.bytes(user.substring(colon + 1)));
            if (!tls) {
                log.warn("{}: etcd user {}'s password goes to {} unencrypted; give etcd's https:// URLs", USER,
                        user.substring(0, colon), String.join(",", endpoints));
            }
        }
    }

    /** The file a variable names, which must be readable. */
    private static Optional<File> file(Map<String, String> env, String variable) {
        String path = env.get(variable);
        if (path == null || path.isBlank()) {
            return Optional.empty();
        }
        File file = new File(path);
        if (!Files.isReadable(file.toPath())) {
            throw new ConfigException(variable + "=" + path + ": no such file, or it cannot be read");
        }
        return Optional.of(file);
    }
}
