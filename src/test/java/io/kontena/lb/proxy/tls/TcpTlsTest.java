package io.kontena.lb.proxy.tls;

import static io.kontena.lb.testing.ProxyFixture.at;
import static io.kontena.lb.testing.ProxyFixture.tcp;
import static io.kontena.lb.testing.ProxyFixture.tcpTls;
import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawServer;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.proxy.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** TCP services with TLS: terminated by the load balancer with its certificates, or relayed untouched. */
class TcpTlsTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private final TestCertificates.Issued db = TestCertificates.cert("db.example.com").build();
    private final TestCertificates.Issued www = TestCertificates.cert("www.example.com").build();

    @Test
    void aTerminatingServiceAnswersWithTheCertificateForTheNameAndRelaysPlainBytes() throws Exception {
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(www, db), List.of(),
                List.of(tcpTls("db", List.of(at(lb.whoami("db-1"))))));
        int port = lb.runtime().tcpPort("db");
        TlsTestClient client = new TlsTestClient();

        try (TlsTestClient.Connection c = client.connect(port, "db.example.com", List.of("h2", "http/1.1"),
                List.of(), List.of())) {
            assertThat(c.peer()).isEqualTo(db.certificate());
            // no ALPN: what the bytes mean is the upstream's business
            assertThat(c.socket.getApplicationProtocol()).isEmpty();
            RawHttp http = new RawHttp(c.socket);
            RawHttp.Response r = http.send("GET /plain HTTP/1.1\r\nHost: db\r\n\r\n").read();
            assertThat(r.instance()).isEqualTo("db-1");
            assertThat(r.echoed("request")).isEqualTo("GET /plain HTTP/1.1");
        }
        // without SNI: the default certificate, the first given
        assertThat(client.certificateFor(port, null)).isEqualTo(www.certificate());
    }

    @Test
    void whenTheUpstreamEndsTheClientGetsACloseNotifyNotATruncatedStream() throws Exception {
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(db), List.of(),
                List.of(tcpTls("db", List.of(at(lb.whoami("db-1"))))));
        EventLoopGroup group = Transport.eventLoops(1, "tls-client");
        try {
            SslContext context = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            CompletableFuture<SslCloseCompletionEvent> closed = new CompletableFuture<>();
            StringBuilder received = new StringBuilder();
            Channel ch = new Bootstrap().group(group).channel(Transport.socketChannel())
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(context.newHandler(c.alloc(), "db.example.com", 0),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            received.append(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
                                            ((ByteBuf) msg).release();
                                        }

                                        @Override
                                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                            if (evt instanceof SslCloseCompletionEvent e) {
                                                closed.complete(e);
                                            }
                                        }
                                    });
                        }
                    }).connect("127.0.0.1", lb.runtime().tcpPort("db")).sync().channel();
            ch.writeAndFlush(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: db\r\nConnection: close\r\n\r\n",
                    StandardCharsets.US_ASCII));
            SslCloseCompletionEvent end = closed.get(10, TimeUnit.SECONDS);
            assertThat(end.isSuccess()).as("close_notify received: %s", end.cause()).isTrue();
            assertThat(received).contains("instance: db-1");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** An upstream that reads until the client's end, then answers {@code size} bytes and ends its side. */
    private RawServer answersAtTheEnd(int size, Semaphore clientEnded) throws Exception {
        return lb.closeAfter(new RawServer((s, in, out) -> {
            in.readAllBytes();
            clientEnded.release();
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'x');
            for (int sent = 0; sent < size; sent += chunk.length) {
                out.write(chunk);
            }
            out.flush();
            s.shutdownOutput();
        }));
    }

    /**
     * TLS over a plain socket with a small receive buffer, so that the proxy keeps finding it full; sends a request.
     *
     * @param autoClose whether the TLS socket's close and shutdownOutput reach the TCP socket as well
     */
    private static SSLSocket tlsOver(Socket plain, int port, String protocol, boolean autoClose) throws Exception {
        plain.setReceiveBufferSize(16 * 1024);
        plain.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        SSLSocket tls = (SSLSocket) new TlsTestClient().context().getSocketFactory()
                .createSocket(plain, "db.example.com", port, autoClose);
        tls.setEnabledProtocols(new String[] {protocol});
        tls.setSoTimeout(10_000);
        tls.getOutputStream().write("send it all\n".getBytes(StandardCharsets.UTF_8));
        tls.getOutputStream().flush();
        return tls;
    }

    /** Reads to the end slowly; returns how much came. */
    private static long readSlowly(InputStream in) throws Exception {
        byte[] buf = new byte[256 * 1024];
        long received = 0;
        int reads = 0;
        for (int n; (n = in.read(buf)) != -1; ) {
            received += n;
            if (++reads % 16 == 0) {
                Thread.sleep(5);
            }
        }
        return received;
    }

    @Test
    void aLargeAnswerReachesAClientThatEndedItsTcpStreamAndReadsSlowly() throws Exception {
        // As over plain TCP (TcpProxyTest), the client's end a bare TCP FIN without a close_notify.
        int size = 16 * 1024 * 1024;
        RawServer up = answersAtTheEnd(size, new Semaphore(0));
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(db), List.of(), List.of(tcpTls("big", List.of(at(up)))));
        for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
            try (Socket plain = new Socket(); SSLSocket tls = tlsOver(plain, lb.runtime().tcpPort("big"), protocol,
                    true)) {
                plain.shutdownOutput();
                assertThat(readSlowly(tls.getInputStream())).as(protocol).isEqualTo(size);
            }
        }
    }

    @Test
    void aClientsCloseNotifyEndsItsSideAndTheAnswerGoesAsFarAsTlsAllows() throws Exception {
        // The client's end said in TLS: a close_notify, with the end of the TCP stream (as SSLSocket.shutdownOutput
        // and openssl s_client at the end of its input send it) or without (as Go's tls.Conn.CloseWrite).
        int size = 16 * 1024 * 1024;
        Semaphore clientEnded = new Semaphore(0);
        RawServer up = answersAtTheEnd(size, clientEnded);
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(db), List.of(), List.of(tcpTls("big", List.of(at(up)))));
        for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
            for (boolean tcpEnds : new boolean[] {true, false}) {
                try (Socket plain = new Socket(); SSLSocket tls = tlsOver(plain, lb.runtime().tcpPort("big"),
                        protocol, tcpEnds)) {
                    tls.shutdownOutput();
                    assertThat(clientEnded.tryAcquire(2, TimeUnit.SECONDS)).as("%s, TCP ends %s: the upstream told",
                            protocol, tcpEnds).isTrue();
                    // Netty's OpenSSL engine ends its direction when it reads the client's close_notify, whatever
                    // the version; the JDK's keeps it open under TLS 1.3 (see Relay).
                    boolean answerGoes = TlsProvider.preferred() == SslProvider.JDK && protocol.equals("TLSv1.3");
                    assertThat(readSlowly(tls.getInputStream())).as("%s, TCP ends %s", protocol, tcpEnds)
                            .isEqualTo(answerGoes ? size : 0);
                }
            }
        }
    }

    @Test
    void aPassthroughServiceRelaysTlsUntouched() throws Exception {
        TestCertificates.Issued upstreamCertificate = TestCertificates.cert("db.example.com").build();
        TlsStore upstreamTls = new TlsStore();
        CertificateBundles.Result read = CertificateBundles.read("upstream",
                Map.of("SSL_CERTS", upstreamCertificate.bundle()), Instant.now());
        upstreamTls.update(read.certificates(), read.settings());
        TlsTestServer upstream = lb.closeAfter(new TlsTestServer(upstreamTls));
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(db), List.of(),
                List.of(tcp("db", Balance.ROUND_ROBIN, List.of(new Upstream("127.0.0.1", upstream.port())))));

        try (TlsTestClient.Connection c = new TlsTestClient().connect(lb.runtime().tcpPort("db"),
                "db.example.com")) {
            assertThat(c.peer()).isEqualTo(upstreamCertificate.certificate());
            // the upstream saw the client's own SNI name: the hello was relayed as it was
            assertThat(c.ask()).isEqualTo("http/1.1 db.example.com");
        }
    }
}
