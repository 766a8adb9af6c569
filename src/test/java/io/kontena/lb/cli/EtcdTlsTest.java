package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.EtcdServer;
import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet whose etcd serves TLS only and asks its clients for a certificate, as etcd between machines should: the
 * commands and the load balancer take etcdctl's variables (ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY).
 */
class EtcdTlsTest {
    @RegisterExtension
    final ProxyFixture fixture = new ProxyFixture();

    @TempDir
    Path dir;

    @Test
    void publishAndALoadBalancerWorkOverTlsWithAClientCertificateAndSayClearlyWhatIsMissing() throws Exception {
        TestCertificates.Issued ca = TestCertificates.cert("etcd test CA").ca().build();
        TestCertificates.Issued server = TestCertificates.cert("etcd").sans("127.0.0.1").issuedBy(ca).build();
        TestCertificates.Issued client = TestCertificates.cert("kontena-lb").issuedBy(ca).build();
        EtcdServer.Tls tls = new EtcdServer.Tls(write("ca.pem", ca.certificatePem()),
                write("etcd.pem", server.certificatePem()),
                write("etcd-key.pem", server.keyPem(TestCertificates.KeyForm.TRADITIONAL)),
                write("client.pem", client.certificatePem()),
                write("client-key.pem", client.keyPem(TestCertificates.KeyForm.TRADITIONAL)));
        WhoAmI web = fixture.whoami("web-1");
        Path stack = write("kontena.yml", """
                services:
                  lb:
                    image: kontena/lb
                  web:
                    image: whoami
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(web.port()));
        try (EtcdServer etcd = EtcdServer.startTls(dir, tls)) {
            assertThat(etcd.url()).startsWith("https://");
            Map<String, String> env = Map.of("ETCDCTL_CACERT", tls.ca().toString(),
                    "ETCDCTL_CERT", tls.clientCert().toString(), "ETCDCTL_KEY", tls.clientKey().toString());
            LbProcess.Finished published = LbProcess.command(env, "publish", "--stack", stack.toString(),
                    "--etcd", etcd.url());
            assertThat(published.exit()).as(published.output()).isZero();
            assertThat(etcd.get("/kontena/haproxy/lb/services/web/balance")).isEqualTo("roundrobin");

            int port = LbProcess.freePort();
            Map<String, String> lbEnv = new HashMap<>(env);
            lbEnv.put("ETCD_NODE", etcd.url());
            try (LbProcess lb = LbProcess.runWithoutStack(lbEnv, List.of(), "--lb", "lb", "--publish", port + ":80")) {
                lb.awaitListening(port);
                assertThat(RawHttp.get(port, "x", "/").instance()).isEqualTo("web-1");
            }

            // without the client certificate etcd refuses the connection; without the CA, its certificate is unknown
            LbProcess.Finished noCert = LbProcess.command(Map.of("ETCDCTL_CACERT", tls.ca().toString()),
                    "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(noCert.exit()).as(noCert.output()).isNotZero();
            assertThat(noCert.output()).contains("cannot read /kontena/haproxy/lb/ in etcd at " + etcd.url(),
                    "over TLS, that $ETCDCTL_CACERT names the authority that signed etcd's certificate");
            LbProcess.Finished noCa = LbProcess.command(Map.of("ETCDCTL_CERT", tls.clientCert().toString(),
                    "ETCDCTL_KEY", tls.clientKey().toString()), "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(noCa.exit()).as(noCa.output()).isNotZero();
            assertThat(noCa.output()).contains("cannot read /kontena/haproxy/lb/ in etcd at " + etcd.url());

            LbProcess.Finished halfPair = LbProcess.command(Map.of("ETCDCTL_CERT", tls.clientCert().toString()),
                    "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(halfPair.output()).contains("ETCDCTL_CERT and ETCDCTL_KEY go together", "ETCDCTL_KEY is not set");
            LbProcess.Finished plain = LbProcess.command(env, "validate", "--etcd", "http://127.0.0.1:1", "--lb", "lb");
            assertThat(plain.output()).contains("ETCDCTL_CACERT is set, for TLS to etcd, but the etcd URLs "
                    + "http://127.0.0.1:1 are plain http://");
            LbProcess.Finished missing = LbProcess.command(Map.of("ETCDCTL_CACERT", dir.resolve("nope.pem").toString()),
                    "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(missing.output()).contains("ETCDCTL_CACERT=" + dir.resolve("nope.pem") + ": no such file");
            LbProcess.Finished garbage = LbProcess.command(Map.of("ETCDCTL_CACERT", write("bad.pem", "x").toString()),
                    "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(garbage.output()).contains("TLS to etcd: cannot use ETCDCTL_CACERT=" + dir.resolve("bad.pem"));
        }
    }

    @Test
    void etcdsOwnUsersAreTakenFromEtcdctlsVariable() throws Exception {
        try (EtcdServer etcd = EtcdServer.start(dir)) {
            etcd.enableAuthentication("s3cret");
            LbProcess.Finished user = LbProcess.command(Map.of("ETCDCTL_USER", "root:s3cret"),
                    "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(user.output()).contains("etcd has no keys under /kontena/haproxy/lb/") // read, and empty
                    .contains("ETCDCTL_USER: etcd user root's password goes to " + etcd.url() + " unencrypted")
                    .doesNotContain("s3cret");
            LbProcess.Finished wrong = LbProcess.command(Map.of("ETCDCTL_USER", "root:guess"),
                    "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(wrong.exit()).isNotZero();
            assertThat(wrong.output()).contains("cannot read /kontena/haproxy/lb/ in etcd at " + etcd.url())
                    .doesNotContain("guess");
            LbProcess.Finished none = LbProcess.command(Map.of(), "validate", "--etcd", etcd.url(), "--lb", "lb");
            assertThat(none.output()).contains("cannot read /kontena/haproxy/lb/ in etcd at " + etcd.url());
            assertThat(LbProcess.command(Map.of("ETCDCTL_USER", "root"), "validate", "--etcd", etcd.url(), "--lb",
                    "lb").output()).contains("ETCDCTL_USER: expected name:password");
        }
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }
}
