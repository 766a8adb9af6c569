package io.kontena.lb.proxy.tls;

import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.config.Certificate;
import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.testing.LogCapture;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TestCertificates.Issued;
import io.kontena.lb.testing.TestCertificates.KeyType;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The TLS store behind real sockets: a Netty server with the store's handlers, a JDK client. */
class TlsStoreTest {
    private final TlsTestClient client = new TlsTestClient();
    private final List<AutoCloseable> closing = new ArrayList<>();

    static Stream<SslProvider> providers() {
        return OpenSsl.isAvailable() ? Stream.of(SslProvider.OPENSSL, SslProvider.JDK) : Stream.of(SslProvider.JDK);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private TlsTestServer serve(TlsStore store) throws InterruptedException {
        TlsTestServer server = new TlsTestServer(store);
        closing.add(server);
        return server;
    }

    private static List<Certificate> certificates(Map<String, String> env) {
        CertificateBundles.Result result = CertificateBundles.read("lb", env, Instant.now());
        assertThat(result.problems()).isEmpty();
        return result.certificates();
    }

    private static List<Certificate> bundles(Issued... issued) {
        StringBuilder joined = new StringBuilder();
        for (Issued i : issued) {
            joined.append(i.bundle()).append('\n');
        }
        return certificates(Map.of("SSL_CERTS", joined.toString()));
    }

    private static TlsStore store(SslProvider provider, List<Certificate> certificates, TlsSettings settings) {
        TlsStore store = new TlsStore(provider, Clock.systemUTC());
        assertThat(store.update(certificates, settings)).isEmpty();
        return store;
    }

    @Test
    @EnabledOnOs(value = OS.LINUX, architectures = "amd64")
    void openSslLoadsOnLinux() {
        assertThat(OpenSsl.isAvailable()).as(TlsProvider.describe()).isTrue();
        assertThat(TlsProvider.preferred()).isEqualTo(SslProvider.OPENSSL);
    }

    @ParameterizedTest
    @MethodSource("providers")
    void selectsBySniOverManyCertificatesWithWildcardsAndTheDefault(SslProvider provider) throws Exception {
        Issued fallback = TestCertificates.cert("fallback.example.test").build();
        List<Issued> sites = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            sites.add(TestCertificates.cert("site" + i + ".example.test").sans("site" + i + ".example.test",
                    "alias" + i + ".example.test").key(i % 10 == 0 ? KeyType.RSA : KeyType.EC).build());
        }
        List<Issued> wildcards = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            wildcards.add(TestCertificates.cert("*.w" + i + ".example.test").build());
        }
        Issued exactUnderWildcard = TestCertificates.cert("exact.w0.example.test").build();
        Issued topWildcard = TestCertificates.cert("*.example.test").sans("*.example.test").build();
        List<Issued> all = new ArrayList<>();
        all.add(fallback);
        all.addAll(sites);
        all.addAll(wildcards);
        all.add(exactUnderWildcard);
        all.add(topWildcard);
        TlsStore store = store(provider, bundles(all.toArray(new Issued[0])), TlsSettings.DEFAULTS);
        int port = serve(store).port();

        assertThat(store.served()).hasSize(58);
        for (int i = 0; i < sites.size(); i++) {
            assertThat(client.certificateFor(port, "site" + i + ".example.test"))
                    .as("site%d", i).isEqualTo(sites.get(i).certificate());
        }
        assertThat(client.certificateFor(port, "alias7.example.test")).isEqualTo(sites.get(7).certificate());
        assertThat(client.certificateFor(port, "SITE8.Example.TEST")).isEqualTo(sites.get(8).certificate());
        // a wildcard covers one label
        assertThat(client.certificateFor(port, "a.w1.example.test")).isEqualTo(wildcards.get(1).certificate());
        assertThat(client.certificateFor(port, "deep.a.w1.example.test")).isEqualTo(fallback.certificate());
        // the exact name before the wildcard that also covers it
        assertThat(client.certificateFor(port, "exact.w0.example.test")).isEqualTo(exactUnderWildcard.certificate());
        assertThat(client.certificateFor(port, "other.w0.example.test")).isEqualTo(wildcards.get(0).certificate());
        // the most specific wildcard: *.w2.example.test for b.w2, *.example.test for w2 itself
        assertThat(client.certificateFor(port, "b.w2.example.test")).isEqualTo(wildcards.get(2).certificate());
        assertThat(client.certificateFor(port, "w2.example.test")).isEqualTo(topWildcard.certificate());
        // the default: no match, no SNI
        assertThat(client.certificateFor(port, "nothing.example.org")).isEqualTo(fallback.certificate());
        assertThat(client.certificateFor(port, null)).isEqualTo(fallback.certificate());

        try (TlsTestClient.Connection c = client.connect(port, "site3.example.test")) {
            assertThat(c.ask()).isEqualTo("http/1.1 site3.example.test");
        }
        try (TlsTestClient.Connection c = client.connect(port, null)) {
            assertThat(c.ask()).isEqualTo("http/1.1 -");
        }
    }

    @Test
    void theDefaultIsChosenByOriginOrNameElseItIsTheFirst() throws Exception {
        Issued a = TestCertificates.cert("a.example.test").build();
        Issued b = TestCertificates.cert("b.example.test").build();
        Issued c = TestCertificates.cert("*.c.example.test").build();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SSL_CERTS", a.bundle());
        env.put("SSL_CERT_b", b.bundle());
        env.put("SSL_CERT_c", c.bundle());
        List<Certificate> certificates = certificates(env);
        TlsStore store = new TlsStore(TlsProvider.preferred(), Clock.systemUTC());

        store.update(certificates, TlsSettings.DEFAULTS);
        assertThat(store.defaultCertificate()).map(Certificate::origin).contains("SSL_CERTS#1");
        store.update(certificates, settingsWithDefault("SSL_CERT_b"));
        assertThat(store.defaultCertificate()).map(Certificate::origin).contains("SSL_CERT_b");
        store.update(certificates, settingsWithDefault("B.example.test"));
        assertThat(store.defaultCertificate()).map(Certificate::origin).contains("SSL_CERT_b");
        store.update(certificates, settingsWithDefault("x.c.example.test"));
        assertThat(store.defaultCertificate()).map(Certificate::origin).contains("SSL_CERT_c");
        assertThat(store.served()).filteredOn(ServedCertificate::isDefault).extracting(ServedCertificate::origin)
                .containsExactly("SSL_CERT_c");
        store.update(certificates, settingsWithDefault("nowhere.example.test"));
        assertThat(store.defaultCertificate()).map(Certificate::origin).contains("SSL_CERTS#1");

        store.update(certificates, settingsWithDefault("SSL_CERT_b"));
        int port = serve(store).port();
        assertThat(client.certificateFor(port, null)).isEqualTo(b.certificate());
        assertThat(client.certificateFor(port, "a.example.test")).isEqualTo(a.certificate());
    }

    private static TlsSettings settingsWithDefault(String selector) {
        return new TlsSettings(List.of(), Optional.of(selector), true);
    }

    @Test
    void aCurrentCertificateWinsANameOverAnExpiredOne() {
        Issued expired = TestCertificates.cert("www.example.test")
                .valid(Instant.now().minus(Duration.ofDays(100)), Instant.now().minus(Duration.ofDays(1))).build();
        Issued renewed = TestCertificates.cert("www.example.test").build();
        Issued other = TestCertificates.cert("other.example.test").build();
        List<Certificate> certificates = CertificateBundles.read("lb",
                Map.of("SSL_CERTS", expired.bundle() + other.bundle() + renewed.bundle()), Instant.now()).certificates();
        TlsStore store = new TlsStore(TlsProvider.preferred(), Clock.systemUTC());
        store.update(certificates, TlsSettings.DEFAULTS);

        assertThat(store.certificateFor("www.example.test")).map(Certificate::origin).contains("SSL_CERTS#3");
    }

    @ParameterizedTest
    @MethodSource("providers")
    void certificateChangesApplyToNewHandshakesWhileEstablishedConnectionsContinue(SslProvider provider)
            throws Exception {
        Issued one = TestCertificates.cert("one.example.test").build();
        Issued two = TestCertificates.cert("two.example.test").build();
        Issued three = TestCertificates.cert("three.example.test").key(KeyType.RSA).build();
        TlsStore store = store(provider, bundles(one, two, three), TlsSettings.DEFAULTS);
        int port = serve(store).port();
        SslContext threeBefore = store.map("three.example.test");

        try (TlsTestClient.Connection established = client.connect(port, "one.example.test")) {
            assertThat(established.ask()).isEqualTo("http/1.1 one.example.test");
            assertThat(established.peer()).isEqualTo(one.certificate());

            Issued renewedOne = TestCertificates.cert("one.example.test").build();
            assertThat(store.update(bundles(three, renewedOne), TlsSettings.DEFAULTS)).isEmpty();

            assertThat(client.certificateFor(port, "one.example.test")).isEqualTo(renewedOne.certificate());
            // two is gone: its name gets the default, now the first bundle
            assertThat(client.certificateFor(port, "two.example.test")).isEqualTo(three.certificate());
            // unchanged certificates keep their context (and the sessions cached in it), whatever their origin
            assertThat(store.map("three.example.test")).isSameAs(threeBefore);

            assertThat(established.ask()).isEqualTo("http/1.1 one.example.test");
            assertThat(established.ask()).isEqualTo("http/1.1 one.example.test");
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void negotiatesH2ByAlpnWhenHttp2IsOn(SslProvider provider) throws Exception {
        List<Certificate> certificates = bundles(TestCertificates.cert("h2.example.test").build());
        int on = serve(store(provider, certificates, TlsSettings.DEFAULTS)).port();
        int off = serve(store(provider, certificates, new TlsSettings(List.of(), Optional.empty(), false))).port();
        List<String> browser = List.of("h2", "http/1.1");

        try (TlsTestClient.Connection c = client.connect(on, "h2.example.test", browser, List.of(), List.of())) {
            assertThat(c.socket.getApplicationProtocol()).isEqualTo("h2");
            assertThat(c.ask()).isEqualTo("h2 h2.example.test");
        }
        try (TlsTestClient.Connection c = client.connect(on, "h2.example.test")) {
            assertThat(c.ask()).isEqualTo("http/1.1 h2.example.test");
        }
        try (TlsTestClient.Connection c = client.connect(off, "h2.example.test", browser, List.of(), List.of())) {
            assertThat(c.socket.getApplicationProtocol()).isEqualTo("http/1.1");
            assertThat(c.ask()).isEqualTo("http/1.1 h2.example.test");
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void speaksTls13AndTls12(SslProvider provider) throws Exception {
        int port = serve(store(provider, bundles(TestCertificates.cert("v.example.test").build()),
                TlsSettings.DEFAULTS)).port();

        try (TlsTestClient.Connection c = client.connect(port, "v.example.test")) {
            assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        try (TlsTestClient.Connection c = client.connect(port, "v.example.test", List.of(), List.of("TLSv1.2"),
                List.of())) {
            assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
            assertThat(c.ask()).isEqualTo("http/1.1 v.example.test");
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void offersOnlyTheConfiguredCiphers(SslProvider provider) throws Exception {
        CipherList ciphers = CipherList.parse("ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL:!MD5", provider);
        assertThat(ciphers.unknown()).isEmpty();
        int port = serve(store(provider, bundles(TestCertificates.cert("c.example.test").build()),
                new TlsSettings(ciphers.suites(), Optional.empty(), false))).port();
        List<String> tls12 = List.of("TLSv1.2");

        try (TlsTestClient.Connection c = client.connect(port, "c.example.test", List.of(), tls12, List.of())) {
            assertThat(c.socket.getSession().getCipherSuite()).isEqualTo("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        }
        assertThatThrownBy(() -> client.connect(port, "c.example.test", List.of(), tls12,
                List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))).isInstanceOf(SSLException.class);
        // a list of TLS 1.2 suites leaves TLS 1.3 on with its own suites, as HAProxy's cipher list does
        try (TlsTestClient.Connection c = client.connect(port, "c.example.test")) {
            assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void tls13KeepsItsStandardSuitesWhateverTheList(SslProvider provider) throws Exception {
        CipherList ciphers = CipherList.parse("ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384", provider);
        int port = serve(store(provider, bundles(TestCertificates.cert("d.example.test").build()),
                new TlsSettings(ciphers.suites(), Optional.empty(), false))).port();
        List<String> tls13 = List.of("TLSv1.3");

        for (String suite : List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384")) {
            try (TlsTestClient.Connection c = client.connect(port, "d.example.test", List.of(), tls13,
                    List.of(suite))) {
                assertThat(c.socket.getSession().getCipherSuite()).isEqualTo(suite);
            }
        }
        // the list still rules TLS 1.2
        assertThatThrownBy(() -> client.connect(port, "d.example.test", List.of(), List.of("TLSv1.2"),
                List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))).isInstanceOf(SSLException.class);
    }

    @Test
    void reportsCipherNamesTheProviderDoesNotKnow() {
        CipherList parsed = CipherList.parse("HIGH:ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256:"
                + "!aNULL:@STRENGTH:BOGUS-CIPHER");
        assertThat(parsed.unknown()).containsExactly("HIGH", "BOGUS-CIPHER");
        assertThat(parsed.suites()).hasSize(2);
    }

    @ParameterizedTest
    @MethodSource("providers")
    void resumesSessions(SslProvider provider) throws Exception {
        int port = serve(store(provider, bundles(TestCertificates.cert("r.example.test").build()),
                TlsSettings.DEFAULTS)).port();
        List<String> tls12 = List.of("TLSv1.2");
        TlsTestClient client = new TlsTestClient(true);
        byte[] first;
        try (TlsTestClient.Connection c = client.connect(port, "r.example.test", List.of(), tls12, List.of())) {
            first = c.socket.getSession().getId();
            c.ask();
        }
        try (TlsTestClient.Connection c = client.connect(port, "r.example.test", List.of(), tls12, List.of())) {
            assumeThat(first).isNotEmpty();
            assertThat(c.socket.getSession().getId()).isEqualTo(first);
        }
    }

    /**
     * TLS 1.3 resumes by tickets only, which the JDK's client does not let a test observe; OpenSSL's own client
     * says "Reused" when the server took its ticket.
     */
    @ParameterizedTest
    @MethodSource("providers")
    void resumesTls13SessionsByTicket(SslProvider provider) throws Exception {
        int port = serve(store(provider, bundles(TestCertificates.cert("t.example.test").build()),
                TlsSettings.DEFAULTS)).port();
        Path session = Files.createTempFile("tls13", ".session");
        try {
            assertThat(OpensslClient.exchange(port, "t.example.test", "-tls1_3", "-sess_out", session.toString()))
                    .contains("New, TLSv1.3");
            assertThat(Files.size(session)).as("a ticket was stored").isPositive();
            assertThat(OpensslClient.exchange(port, "t.example.test", "-tls1_3", "-sess_in", session.toString()))
                    .contains("Reused, TLSv1.3");
        } finally {
            Files.deleteIfExists(session);
        }
    }

    @Test
    void withoutCertificatesAHandshakeFailsAndTheListenerLives() throws Exception {
        TlsStore store = new TlsStore(TlsProvider.preferred(), Clock.systemUTC());
        int port = serve(store).port();
        assertThat(store.isEmpty()).isTrue();

        assertThatThrownBy(() -> client.connect(port, "any.example.test")).isInstanceOf(IOException.class);

        Issued late = TestCertificates.cert("late.example.test").build();
        store.update(bundles(late), TlsSettings.DEFAULTS);
        assertThat(client.certificateFor(port, "any.example.test")).isEqualTo(late.certificate());
    }

    @ParameterizedTest
    @MethodSource("providers")
    void aCipherListTheProviderTurnsDownFallsBackToTheDefaults(SslProvider provider) throws Exception {
        CipherList onlyTls13 = CipherList.parse("TLS_AES_128_GCM_SHA256", provider);
        Issued issued = TestCertificates.cert("f.example.test").build();
        TlsStore store = new TlsStore(provider, Clock.systemUTC());

        List<io.kontena.lb.config.Problem> problems = store.update(bundles(issued),
                new TlsSettings(onlyTls13.suites(), Optional.empty(), true));

        // whether the provider accepts it or not, the certificate is served
        assertThat(problems).allSatisfy(p -> assertThat(p.message()).contains("served with the default ciphers"));
        int port = serve(store).port();
        assertThat(client.certificateFor(port, "f.example.test")).isEqualTo(issued.certificate());
    }

    @ParameterizedTest
    @MethodSource("providers")
    void refusesTls11(SslProvider provider) throws Exception {
        assumeThat(OpenSsl.isAvailable()).as("an OpenSSL client that still speaks TLS 1.1").isTrue();
        Issued issued = TestCertificates.cert("old.example.test").key(KeyType.RSA).build();
        int port = serve(store(provider, bundles(issued), TlsSettings.DEFAULTS)).port();
        // the control: a server that allows TLS 1.1 shakes hands with the same client
        SslContext permissive = SslContextBuilder.forServer(issued.keyPair().getPrivate(), issued.certificate())
                .sslProvider(SslProvider.OPENSSL).protocols("TLSv1.1", "TLSv1.2").build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel control = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(permissive.newHandler(ch.alloc()));
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            assertThat(handshake(group, ((InetSocketAddress) control.localAddress()).getPort(), "TLSv1.1"))
                    .isEqualTo("TLSv1.1");
            assertThat(handshake(group, port, "TLSv1.1")).startsWith("failed");
            assertThat(handshake(group, port, "TLSv1.2")).isEqualTo("TLSv1.2");
            control.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void theDailyReportNamesCertificatesThatNeedRenewing() {
        Issued soon = TestCertificates.cert("soon.example.test").expiresIn(Duration.ofDays(90)).build();
        Issued fine = TestCertificates.cert("fine.example.test").expiresIn(Duration.ofDays(365)).build();
        // eighty days on, without any change: the first one has ten days left
        TlsStore store = new TlsStore(TlsProvider.preferred(), Clock.offset(Clock.systemUTC(), Duration.ofDays(80)));
        store.update(bundles(soon, fine), TlsSettings.DEFAULTS);
        List<ch.qos.logback.classic.spi.ILoggingEvent> logged;
        try (LogCapture capture = LogCapture.of(TlsStore.class.getName())) {
            store.logExpiring();
            logged = capture.events();
        }
        assertThat(logged).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
            assertThat(e.getFormattedMessage()).startsWith("SSL_CERTS#1 (soon.example.test): certificate expires on")
                    .contains("(in 9 days); renew it");
        });
    }

    /** The protocol an OpenSSL client that offers only this one ends up with, or "failed: why". */
    private static String handshake(EventLoopGroup group, int port, String protocol) throws Exception {
        SslContext context = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).protocols(protocol)
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        CompletableFuture<String> result = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        SslHandler ssl = context.newHandler(c.alloc(), "old.example.test", port);
                        ssl.handshakeFuture().addListener(f -> result.complete(f.isSuccess()
                                ? ssl.engine().getSession().getProtocol() : "failed: " + f.cause()));
                        c.pipeline().addLast(ssl, new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close(); // the failed handshake, reported above
                            }
                        });
                    }
                }).connect("127.0.0.1", port).sync().channel();
        try {
            return result.get(10, TimeUnit.SECONDS);
        } finally {
            ch.close().sync();
        }
    }
}
