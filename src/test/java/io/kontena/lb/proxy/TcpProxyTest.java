package io.kontena.lb.proxy;

import static io.kontena.lb.testing.ProxyFixture.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.testing.LogCapture;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** TCP services over real sockets. */
class TcpProxyTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    /** Reads everything until the client's EOF, then answers with its name and what it got, reversed. */
    private RawServer reverser(String name) throws IOException {
        return lb.closeAfter(new RawServer((s, in, out) -> {
            byte[] got = in.readAllBytes();
            String text = new StringBuilder(new String(got, StandardCharsets.UTF_8)).reverse().toString();
            out.write((name + ":" + text).getBytes(StandardCharsets.UTF_8));
            out.flush();
        }));
    }

    private RawServer greeter(String name) throws IOException {
        return lb.closeAfter(RawServer.greeter(name));
    }

    private static Upstream at(RawServer s) {
        return new Upstream("127.0.0.1", s.port());
    }

    private Socket connect(String service) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", lb.runtime().tcpPort(service)), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void eachConnectionIsOneAccessLogLineWhenItEnds() throws Exception {
        RawServer up = reverser("r");
        lb.accessLog().serve(List.of(), List.of(tcp("db", Balance.ROUND_ROBIN, List.of(at(up)))));
        try (LogCapture logged = LogCapture.accessLog()) {
            try (Socket s = connect("db")) {
                s.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
                s.shutdownOutput();
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                        .isEqualTo("r:olleh");
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (logged.lines().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(logged.lines()).singleElement().asString()
                    .matches("127\\.0\\.0\\.1 \"TCP\" db 127\\.0\\.0\\.1:" + up.port() + " - 7 [0-9]+\\.[0-9]{3}ms");
        }
    }

    @Test
    void relaysBothWaysWithHalfClose() throws Exception {
        RawServer up = reverser("r");
        lb.serve(List.of(), List.of(tcp("db", Balance.ROUND_ROBIN, List.of(at(up)))));
        try (Socket s = connect("db")) {
            byte[] payload = new byte[3 * 1024 * 1024];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) ('a' + i % 26);
            }
            s.getOutputStream().write(payload);
            s.shutdownOutput();
            // the upstream answers only after it saw our EOF; we must still receive it all
            byte[] answer = s.getInputStream().readAllBytes();
            String expected = "r:" + new StringBuilder(new String(payload, StandardCharsets.UTF_8)).reverse();
            assertThat(answer.length).isEqualTo(expected.length());
            assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo(expected);
        }
    }

    @Test
    void aLargeAnswerReachesAClientThatEndedItsSideAndReadsSlowly() throws Exception {
        // The client's socket has nothing left to read once it half-closed, so the proxy's writes to it are what
        // must wait for room: a slow reader makes them fill its buffers many times over.
        int size = 16 * 1024 * 1024;
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            in.readAllBytes();
            byte[] chunk = new byte[64 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'x');
            for (int sent = 0; sent < size; sent += chunk.length) {
                out.write(chunk);
            }
            out.flush();
            s.shutdownOutput();
        }));
        lb.serve(List.of(), List.of(tcp("big", Balance.ROUND_ROBIN, List.of(at(up)))));
        // Ended at once, the client's side usually ends before the upstream is connected (the accepting handler sees
        // it); ended after a pause, the relay sees it.
        for (int pause : new int[] {0, 200}) {
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(16 * 1024);
                s.connect(new InetSocketAddress("127.0.0.1", lb.runtime().tcpPort("big")), 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("send it all\n".getBytes(StandardCharsets.UTF_8));
                Thread.sleep(pause);
                s.shutdownOutput();
                InputStream in = s.getInputStream();
                byte[] buf = new byte[256 * 1024];
                long received = 0;
                int n;
                int reads = 0;
                while ((n = in.read(buf)) != -1) {
                    received += n;
                    if (++reads % 16 == 0) {
                        Thread.sleep(5); // slow: the proxy keeps finding the client's buffers full
                    }
                }
                assertThat(received).as("after a pause of %d ms", pause).isEqualTo(size);
            }
        }
    }

    @Test
    void aLargeUploadReachesAnUpstreamThatEndedItsSideAndReadsSlowly() throws Exception {
        // The mirror case: the upstream ends its side first, then the client sends much more than the buffers on the
        // way hold, so the proxy's writes to the upstream (whose input ended) must wait for room again and again.
        int size = 16 * 1024 * 1024;
        java.util.concurrent.CompletableFuture<Long> got = new java.util.concurrent.CompletableFuture<>();
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            out.write("go\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            s.shutdownOutput();
            byte[] buf = new byte[16 * 1024];
            long received = 0;
            int n;
            int reads = 0;
            try {
                while ((n = in.read(buf)) != -1) {
                    received += n;
                    if (++reads % 16 == 0) {
                        // slow: the proxy keeps finding this socket's buffers full
                        java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
                    }
                }
            } finally {
                got.complete(received); // what arrived before the end, or before a reset
            }
        }));
        lb.serve(List.of(), List.of(tcp("sink", Balance.ROUND_ROBIN, List.of(at(up)))));
        try (Socket s = connect("sink")) {
            assertThat(s.getInputStream().readAllBytes()).isEqualTo("go\n".getBytes(StandardCharsets.UTF_8));
            byte[] chunk = new byte[64 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'y');
            for (int sent = 0; sent < size; sent += chunk.length) {
                s.getOutputStream().write(chunk);
            }
            s.shutdownOutput();
            assertThat(got.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo((long) size);
        }
    }

    @Test
    void whatAClientSendsAndEndsBeforeTheUpstreamIsConnectedIsRelayedWithTheEnd() throws Exception {
        // The client is read while the upstream connects, here after a refused first try: its bytes and its
        // half-close arrive then, before the relay is in place, and both must still reach the upstream.
        RawServer up = reverser("r");
        lb.serve(List.of(), List.of(tcp("db", Balance.ROUND_ROBIN,
                List.of(UpstreamFailureTest.deadUpstream(), at(up)))));
        for (int i = 0; i < 6; i++) {
            try (Socket s = connect("db")) {
                s.getOutputStream().write(("hello " + i).getBytes(StandardCharsets.UTF_8));
                s.shutdownOutput();
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                        .isEqualTo("r:" + i + " olleh");
            }
        }
    }

    @Test
    void upstreamHalfCloseReachesTheClientWhichCanStillSend() throws Exception {
        // the upstream speaks first and closes its side; the client then still sends, and the upstream reads it
        List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            out.write("bye\n".getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput();
            received.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }));
        lb.serve(List.of(), List.of(tcp("svc", Balance.ROUND_ROBIN, List.of(at(up)))));
        try (Socket s = connect("svc")) {
            assertThat(s.getInputStream().readAllBytes()).isEqualTo("bye\n".getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().write("late words".getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (received.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(received).containsExactly("late words");
        }
    }

    @Test
    void aClientGoneWhenTheUpstreamEndsIsClosedQuietly() throws Exception {
        // The upstream ends its side and then the client resets, both while the event loops are busy: the loop sees
        // the upstream's end first, and passing it on finds the client's socket gone (ENOTCONN). That closes the
        // pair; it is no error to log.
        CountDownLatch upstreamEnds = new CountDownLatch(1);
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            line(in);
            out.write(new byte[4096]);
            out.flush();
            awaitQuietly(upstreamEnds);
        }));
        lb.serve(List.of(), List.of(tcp("svc", Balance.ROUND_ROBIN, List.of(at(up)))));
        Socket client = connect("svc");
        client.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        client.getInputStream().readNBytes(64);
        try (LogCapture logged = LogCapture.of(org.slf4j.Logger.ROOT_LOGGER_NAME)) {
            List<io.netty.util.concurrent.EventExecutor> loops = new ArrayList<>();
            lb.runtime().eventLoops().forEach(loops::add);
            CountDownLatch busy = new CountDownLatch(loops.size());
            CountDownLatch release = new CountDownLatch(1);
            loops.forEach(loop -> loop.execute(() -> {
                busy.countDown();
                awaitQuietly(release);
            }));
            busy.await();
            upstreamEnds.countDown();
            Thread.sleep(100);
            client.setSoLinger(true, 0);
            client.close(); // a reset: the rest of the answer is unread
            Thread.sleep(100);
            release.countDown();
            awaitOpenConnections(0);
            assertThat(logged.events()).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).isEmpty();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void connectFailureIsRetriedOnAnotherUpstream() throws Exception {
        RawServer up = greeter("alive");
        lb.serve(List.of(), List.of(tcp("svc", Balance.ROUND_ROBIN,
                List.of(UpstreamFailureTest.deadUpstream(), at(up), UpstreamFailureTest.deadUpstream()))));
        for (int i = 0; i < 6; i++) {
            try (Socket s = connect("svc")) {
                assertThat(line(s.getInputStream())).isEqualTo("alive");
                s.getOutputStream().write("ping\n".getBytes(StandardCharsets.UTF_8));
                assertThat(line(s.getInputStream())).isEqualTo("ping");
            }
        }
    }

    @Test
    void allUpstreamsDeadClosesTheClient() throws Exception {
        lb.serve(List.of(), List.of(tcp("svc", Balance.ROUND_ROBIN, List.of(UpstreamFailureTest.deadUpstream()))));
        try (Socket s = connect("svc")) {
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void roundRobinAlternatesConnections() throws Exception {
        RawServer a = greeter("a");
        RawServer b = greeter("b");
        lb.serve(List.of(), List.of(tcp("svc", Balance.ROUND_ROBIN, List.of(at(a), at(b)))));
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            try (Socket s = connect("svc")) {
                seen.add(line(s.getInputStream()));
            }
        }
        Map<String, Long> counts = seen.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(counts).containsOnly(Map.entry("a", 5L), Map.entry("b", 5L));
    }

    @Test
    void leastConnectionsAvoidsTheBusyUpstream() throws Exception {
        RawServer a = greeter("a");
        RawServer b = greeter("b");
        lb.serve(List.of(), List.of(tcp("svc", Balance.LEAST_CONN, List.of(at(a), at(b)))));
        try (Socket held = connect("svc")) {
            String busy = line(held.getInputStream());
            String idle = busy.equals("a") ? "b" : "a";
            // while one connection stays open on 'busy', every short connection goes to the other
            for (int i = 0; i < 6; i++) {
                try (Socket s = connect("svc")) {
                    assertThat(line(s.getInputStream())).as("connection %d", i).isEqualTo(idle);
                }
                awaitOpenConnections(1);
            }
        }
    }

    private void awaitOpenConnections(int n) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (lb.runtime().openConnections() != n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still " + lb.runtime().openConnections() + " connections open");
            }
            Thread.sleep(1);
        }
    }

    @Test
    void aClientThatDoesNotReadHoldsTheUpstreamBack() throws Exception {
        long endless = 1L << 30;
        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        RawServer up = lb.closeAfter(new RawServer((s, in, out) -> {
            byte[] piece = new byte[64 * 1024];
            while (written.get() < endless) {
                out.write(piece);
                written.addAndGet(piece.length);
            }
        }));
        lb.serve(List.of(), List.of(tcp("svc", Balance.ROUND_ROBIN, List.of(at(up)))));
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(64 * 1024);
            s.connect(new InetSocketAddress("127.0.0.1", lb.runtime().tcpPort("svc")), 5000);
            // the upstream writes until every buffer on the way is full, then waits for the reader
            long deadline = System.nanoTime() + 20_000_000_000L;
            long before = -1;
            while (written.get() != before || before <= 0) {
                assertThat(System.nanoTime()).as("the upstream is held back").isLessThan(deadline);
                before = written.get();
                Thread.sleep(200);
            }
            assertThat(written.get()).as("socket buffers, not the stream").isLessThan(endless / 16);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (up.finished() == 0) {
            assertThat(System.nanoTime()).as("the upstream connection ends with the client's").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void twoTcpServicesListenApart() throws Exception {
        RawServer a = greeter("a");
        RawServer b = greeter("b");
        lb.serve(List.of(), List.of(tcp("one", Balance.ROUND_ROBIN, List.of(at(a))),
                tcp("two", Balance.ROUND_ROBIN, List.of(at(b)))));
        try (Socket s1 = connect("one"); Socket s2 = connect("two")) {
            assertThat(line(s1.getInputStream())).isEqualTo("a");
            assertThat(line(s2.getInputStream())).isEqualTo("b");
        }
    }

    @Test
    void sourceKeepsEachClientOnOneUpstream() throws Exception {
        RawServer a = greeter("a");
        RawServer b = greeter("b");
        RawServer c = greeter("c");
        lb.serve(List.of(), List.of(tcp("svc", Balance.SOURCE, List.of(at(a), at(b), at(c)))));
        java.util.Set<String> used = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            String client = "127.0.0." + (i + 2);
            String first = null;
            for (int j = 0; j < 3; j++) {
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress(client, 0));
                    s.connect(new InetSocketAddress("127.0.0.1", lb.runtime().tcpPort("svc")), 5000);
                    s.setSoTimeout(10_000);
                    String name = line(s.getInputStream());
                    if (first == null) {
                        first = name;
                    }
                    assertThat(name).as("client %s", client).isEqualTo(first);
                }
            }
            used.add(first);
        }
        assertThat(used).hasSizeGreaterThan(1);
    }
}
