package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.at;
import static io.kontena.lb.testing.ProxyFixture.http;
import static io.kontena.lb.testing.ProxyFixture.tcp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Balance;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import io.kontena.lb.testing.RawServer;
import io.netty.channel.unix.Errors;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The most client connections held at once: past it, new connections wait in the kernel's accept queue, on every
 * listener, and are served as soon as one closes; none is refused or dropped.
 */
class ConnectionLimitTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture().maxConnections(3);

    private Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    @Test
    void connectionsPastTheLimitWaitOnEveryListenerAndAreServedWhenOneCloses() throws Exception {
        RawServer db = lb.closeAfter(RawServer.greeter("db"));
        ProxyRuntime runtime = lb.serve(List.of(http("web", List.of(), List.of(), lb.whoami("web-1"))),
                List.of(tcp("db", Balance.ROUND_ROBIN, List.of(at(db)))));
        int dbPort = runtime.tcpPort("db");
        assertThat(runtime.maxConnections()).isEqualTo(3);

        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(lb.closeAfter(connect(dbPort)));
            assertThat(RawServer.greeting(held.get(i), 5000)).isEqualTo("db");
        }
        Socket waiting = lb.closeAfter(connect(dbPort)); // the kernel completes the handshake: it queues
        assertThatThrownBy(() -> RawServer.greeting(waiting, 500)).isInstanceOf(SocketTimeoutException.class);
        RawHttp waitingHttp = lb.closeAfter(new RawHttp(runtime.httpPort()));
        waitingHttp.send("GET / HTTP/1.1\r\nHost: any\r\nConnection: close\r\n\r\n");
        waitingHttp.socket().setSoTimeout(500);
        assertThatThrownBy(waitingHttp::read).isInstanceOf(SocketTimeoutException.class);
        assertThat(runtime.openConnections()).isEqualTo(3);
        assertThat(db.accepted()).isEqualTo(3);

        held.get(0).close();
        assertThat(RawServer.greeting(waiting, 5000)).isEqualTo("db");
        held.get(1).close();
        waitingHttp.socket().setSoTimeout(5000);
        RawHttp.Response response = waitingHttp.read();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.text()).contains("instance: web-1");
    }

    @Test
    void onlyAnAcceptThatFailsForWantOfFilesOrMemoryStopsAccepting() {
        assertThat(AcceptGate.outOfResources(new IOException("Too many open files"))).isTrue(); // NIO
        assertThat(AcceptGate.outOfResources(new IOException("Connection reset by peer"))).isFalse();
        if (Transport.kind() == TransportKind.NIO) {
            return; // the native transports' errors need their library, loaded only with them
        }
        assertThat(AcceptGate.outOfResources(new Errors.NativeIoException("accept", -24))).isTrue(); // EMFILE
        assertThat(AcceptGate.outOfResources(new Errors.NativeIoException("accept", -23))).isTrue(); // ENFILE
        // ECONNABORTED, EPROTO: one connection's trouble, which the kernel dropped
        assertThat(AcceptGate.outOfResources(new Errors.NativeIoException("accept", -103))).isFalse();
        assertThat(AcceptGate.outOfResources(new Errors.NativeIoException("accept", -71))).isFalse();
    }

    @Test
    void theLimitIsWhatTheOpenFileLimitAllowsAtTwoFilesPerConnection() throws IOException {
        long files = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(l -> l.startsWith("Max open files"))
                .map(l -> Long.parseLong(l.substring("Max open files".length()).trim().split("\\s+")[0]))
                .findFirst().orElseThrow();
        int allowed = ConnectionLimit.of(0).value();
        assertThat(allowed).isPositive().isLessThanOrEqualTo((int) (files / 2)).isGreaterThan((int) (files / 4));
        assertThat(ConnectionLimit.of(5).value()).isEqualTo(5);
        // files open now vary a little: the limit is taken at start
        assertThat(ConnectionLimit.of(Integer.MAX_VALUE).value())
                .isLessThanOrEqualTo((int) (files / 2)).isCloseTo(allowed, org.assertj.core.data.Offset.offset(20));
    }
}
