package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Frontend;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.H2Client;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TrustAll;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** KONTENA_LB_ACCEPT_PROXY: connections start with a PROXY protocol header, whose address is the client's. */
class ProxyProtocolTest {
    private static final String REQUEST = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private void serve(boolean acceptProxy, WhoAmI web) {
        lb.apply(new LbConfig(Optional.of(0), List.of(ProxyFixture.http("web", List.of(), List.of("/"), web)),
                List.of(ProxyFixture.tcp("db", Balance.SOURCE, List.of(ProxyFixture.at(web)))), List.of(),
                Optional.empty(), new Frontend(Map.of(), acceptProxy, Optional.empty())));
    }

    /** A v2 header: PROXY over TCP/IPv4 (LOCAL when {@code local}), from 198.51.100.9:40000 to 10.0.0.1:80. */
    private static byte[] v2(boolean local) {
        ByteBuffer b = ByteBuffer.allocate(16 + 12);
        b.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.put((byte) (local ? 0x20 : 0x21)).put((byte) 0x11).putShort((short) 12);
        b.put(new byte[] {(byte) 198, 51, 100, 9}).put(new byte[] {10, 0, 0, 1});
        b.putShort((short) 40000).putShort((short) 80);
        return b.array();
    }

    @Test
    void theHeadersAddressIsTheClientsForwardedFor() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        serve(true, web);
        int port = lb.httpPort();
        try (RawHttp c = new RawHttp(port)) {
            RawHttp.Response r = c.send("PROXY TCP4 203.0.113.7 10.0.0.1 56324 80\r\n" + REQUEST).read();
            assertThat(r.instance()).isEqualTo("web-1");
            assertThat(r.echoed("x-forwarded-for")).isEqualTo("203.0.113.7");
            assertThat(r.echoed("x-forwarded-port")).as("the port of the load balancer in front").isEqualTo("80");
        }
        try (RawHttp c = new RawHttp(port)) {
            c.send(v2(false));
            assertThat(c.send(REQUEST).read().echoed("x-forwarded-for")).isEqualTo("198.51.100.9");
        }
        try (RawHttp c = new RawHttp(port)) { // LOCAL: the load balancer in front checking on this one
            c.send(v2(true));
            assertThat(c.send(REQUEST).read().echoed("x-forwarded-for")).isEqualTo("127.0.0.1");
        }
        try (RawHttp c = new RawHttp(port)) { // an address with a scope of no interface here: the peer it is
            RawHttp.Response r = c.send("PROXY TCP6 fe80::1%nosuchif 2001:db8::2 4000 80\r\n" + REQUEST).read();
            assertThat(r.echoed("x-forwarded-for")).isEqualTo("127.0.0.1");
        }
        try (RawHttp c = new RawHttp(port)) { // the header in pieces
            c.send("PROXY TCP6 2001:db8::1 ");
            Thread.sleep(50);
            c.send("2001:db8::2 4000 443\r\n" + REQUEST);
            assertThat(c.read().echoed("x-forwarded-for")).isEqualTo("2001:db8::1");
        }
    }

    @Test
    void overTlsTheHeaderComesBeforeTheHandshake() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(TestCertificates.cert("www.example.com").build()),
                List.of(ProxyFixture.http("web", List.of(), List.of("/"), web)), List.of(),
                new Frontend(Map.of(), true, Optional.empty()));
        try (Socket plain = new Socket("127.0.0.1", lb.httpsPort())) {
            plain.getOutputStream().write("PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            SSLSocket tls = (SSLSocket) TrustAll.context().getSocketFactory().createSocket(plain, "www.example.com",
                    plain.getPort(), true);
            tls.setSoTimeout(10_000);
            try (RawHttp c = new RawHttp(tls)) {
                RawHttp.Response r = c.send(REQUEST).read();
                assertThat(r.echoed("x-forwarded-for")).isEqualTo("203.0.113.7");
                assertThat(r.echoed("x-forwarded-proto")).isEqualTo("https");
                assertThat(r.echoed("x-forwarded-port")).isEqualTo("443");
            }
        }
    }


    @Test
    void overHttp2EachStreamHasTheHeadersClient() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        lb.serveHttps(TlsSettings.DEFAULTS, List.of(TestCertificates.cert("www.example.com").build()),
                List.of(ProxyFixture.http("web", List.of(), List.of("/"), web)), List.of(),
                new Frontend(Map.of(), true, Optional.empty()));
        try (H2Client h2 = new H2Client(lb.httpsPort(), "www.example.com",
                "PROXY TCP4 203.0.113.7 10.0.0.1 56324 8443\r\n")) {
            for (int i = 0; i < 2; i++) {
                H2Client.Response r = h2.get("www.example.com", "/");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoed("x-forwarded-for")).isEqualTo("203.0.113.7");
                assertThat(r.echoed("x-forwarded-proto")).isEqualTo("https");
                assertThat(r.echoed("x-forwarded-port")).isEqualTo("8443");
            }
        }
    }

    @Test
    void aConnectionWithoutAHeaderIsClosedUnanswered() throws Exception {
        serve(true, lb.whoami("web-1"));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            assertThatThrownBy(() -> c.send(REQUEST).read()).isInstanceOf(IOException.class);
        }
    }

    @Test
    void aConnectionThatSendsNoHeaderIsClosedAfterTheRequestTimeout() throws Exception {
        serve(true, lb.whoami("web-1"));
        try (Socket silent = new Socket("127.0.0.1", lb.httpPort())) {
            silent.setSoTimeout(15_000);
            long start = System.nanoTime();
            assertThat(silent.getInputStream().read()).as("closed, unanswered").isEqualTo(-1);
            assertThat((System.nanoTime() - start) / 1_000_000).as("ms until closed").isBetween(4_000L, 10_000L);
        }
    }

    @Test
    void aTcpServiceRelaysWhatFollowsTheHeaderAndNotTheHeader() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        serve(true, web);
        try (RawHttp c = new RawHttp(lb.runtime().tcpPort("db"))) {
            RawHttp.Response r = c.send("PROXY TCP4 203.0.113.7 10.0.0.1 56324 5000\r\n" + REQUEST).read();
            assertThat(r.instance()).isEqualTo("web-1");
            assertThat(r.echoed("request")).isEqualTo("GET / HTTP/1.1");
        }
    }

    @Test
    void turnedOffByAChangeNewConnectionsNeedNoHeader() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        serve(true, web);
        serve(false, web);
        assertThat(RawHttp.get(lb.httpPort(), "x", "/").echoed("x-forwarded-for")).isEqualTo("127.0.0.1");
    }
}
