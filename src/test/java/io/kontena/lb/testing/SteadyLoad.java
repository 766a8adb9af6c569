package io.kontena.lb.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady client load of every kind against a load balancer, for tests that change or replace it meanwhile:
 * keep-alive requests, a new connection per request, long streamed responses, WebSocket sessions and TCP streams.
 * Every answer is recorded with the upstream instance that gave it and the moments the exchange started and was
 * answered, so a test can check it against the configuration of that time; every failure is recorded with what
 * failed. A response with {@code Connection: close} is no failure: the client opens a new connection, as any does.
 *
 * <p>HTTP upstreams must be {@code WhoAmI} instances; TCP upstreams must send their name and a newline first, then
 * echo.
 */
public final class SteadyLoad implements AutoCloseable {
    public enum Kind { KEEP_ALIVE, NEW_CONNECTION, STREAM, WEBSOCKET, TCP }

    /** An HTTP route: the Host header and path a request carries. */
    public record Route(String host, String path) {
    }

    /**
     * Where the load goes.
     *
     * @param routes    keep-alive, new-connection and stream requests take these in turn
     * @param websocket WebSocket sessions (the client sends the Host 127.0.0.1:port, so route by path)
     * @param tcpPort   a TCP service, or 0 for none
     */
    public record Target(int httpPort, List<Route> routes, Route websocket, int tcpPort) {
    }

    /**
     * An exchange that was answered.
     *
     * @param route         its route, or null for a TCP stream
     * @param startNanos    when it began ({@code System.nanoTime()})
     * @param answeredNanos when the answer (or greeting) began to arrive: the upstream was chosen before that
     */
    public record Answer(Kind kind, Route route, String instance, long startNanos, long answeredNanos) {
    }

    private static final int STREAM_BYTES = 16 * 64 * 1024;
    private static final int STREAM_PACE_MILLIS = 25;
    private static final int SESSION_MESSAGES = 10;
    private static final long PAUSE_MILLIS = 20;

    private final Target target;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    private final Map<Kind, AtomicLong> counts = new EnumMap<>(Kind.class);
    private final List<Thread> threads = new ArrayList<>();

    private SteadyLoad(Target target) {
        this.target = target;
        for (Kind k : Kind.values()) {
            counts.put(k, new AtomicLong());
        }
    }

    /** Starts two keep-alive clients, two new-connection clients, and one each of the other kinds. */
    public static SteadyLoad start(Target target) {
        SteadyLoad load = new SteadyLoad(target);
        load.spawn("keep-alive-1", load.new KeepAliveClient());
        load.spawn("keep-alive-2", load.new KeepAliveClient());
        load.spawn("new-connection-1", load::newConnections);
        load.spawn("new-connection-2", load::newConnections);
        load.spawn("stream", load::streams);
        load.spawn("websocket", load::websockets);
        if (target.tcpPort() > 0) {
            load.spawn("tcp", load::tcpStreams);
        }
        return load;
    }

    private interface Step {
        void run(int i) throws Exception;
    }

    private void spawn(String name, Step step) {
        Thread t = new Thread(() -> {
            for (int i = 0; running.get(); i++) {
                try {
                    step.run(i);
                } catch (Exception e) {
                    failures.add(name + ": " + e);
                }
            }
            if (step instanceof KeepAliveClient c) {
                c.close();
            }
        }, "load-" + name);
        t.setDaemon(true);
        t.start();
        threads.add(t);
    }

    /** Waits until every kind has been answered {@code n} more times than now. */
    public void awaitMore(long n) throws InterruptedException {
        Map<Kind, Long> now = new EnumMap<>(Kind.class);
        counts.forEach((k, c) -> now.put(k, c.get()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (Kind k : Kind.values()) {
            if (k == Kind.TCP && target.tcpPort() == 0) {
                continue;
            }
            while (counts.get(k).get() < now.get(k) + n) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(k + " answered " + counts.get(k).get() + " times in 30 s; failures: "
                            + failures);
                }
                Thread.sleep(10);
            }
        }
    }

    /** Stops the clients; each finishes the exchange it is in. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(30_000);
            if (t.isAlive()) {
                failures.add(t.getName() + " did not finish its exchange within 30 s");
            }
        }
    }

    public List<String> failures() {
        return List.copyOf(failures);
    }

    public List<Answer> answers() {
        return List.copyOf(answers);
    }

    public long count(Kind kind) {
        return counts.get(kind).get();
    }

    // ---- the clients --------------------------------------------------------------------------------------

    private Route route(int i) {
        return target.routes().get(i % target.routes().size());
    }

    /** A client that keeps its connection until an answer says Connection: close. */
    private final class KeepAliveClient implements Step {
        private RawHttp connection;

        @Override
        public void run(int i) throws IOException {
            Route route = route(i);
            long start = System.nanoTime();
            try {
                if (connection == null) {
                    connection = new RawHttp(target.httpPort());
                }
                RawHttp.Response r = connection.send("GET " + route.path() + " HTTP/1.1\r\nHost: " + route.host()
                        + "\r\n\r\n").read();
                record(Kind.KEEP_ALIVE, route, r, start);
                if ("close".equalsIgnoreCase(r.header("connection"))) {
                    close();
                }
            } catch (IOException e) {
                close();
                throw new IOException(route + ": " + e, e);
            }
        }

        void close() {
            if (connection != null) {
                try {
                    connection.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                connection = null;
            }
        }
    }

    private void newConnections(int i) throws IOException {
        Route route = route(i);
        long start = System.nanoTime();
        try {
            record(Kind.NEW_CONNECTION, route, RawHttp.get(target.httpPort(), route.host(), route.path()), start);
        } catch (IOException e) {
            throw new IOException(route + ": " + e, e);
        }
    }

    private void streams(int i) throws IOException {
        Route route = route(i);
        long start = System.nanoTime();
        try (RawHttp c = new RawHttp(target.httpPort())) {
            c.send("GET " + route.path() + "/stream?size=" + STREAM_BYTES + "&pace=" + STREAM_PACE_MILLIS
                    + " HTTP/1.1\r\nHost: " + route.host() + "\r\nConnection: close\r\n\r\n");
            RawHttp.Response r = c.read();
            if (r.status() == 200 && r.body().length != STREAM_BYTES) {
                throw new IOException("stream of " + route + " ended after " + r.body().length + " of "
                        + STREAM_BYTES + " bytes");
            }
            record(Kind.STREAM, route, r, start);
        }
    }

    private void record(Kind kind, Route route, RawHttp.Response r, long start) throws IOException {
        long answered = System.nanoTime();
        if (r.status() != 200 || r.instance() == null) {
            throw new IOException(kind + " " + route + ": " + r.statusLine() + " " + r.text().strip());
        }
        answers.add(new Answer(kind, route, r.instance(), start, answered));
        counts.get(kind).incrementAndGet();
    }

    private void websockets(int i) throws Exception {
        Route route = target.websocket();
        long start = System.nanoTime();
        try (Chat chat = Chat.open(target.httpPort(), route.path() + "/ws")) {
            long answered = System.nanoTime();
            String instance = null;
            for (int m = 0; m < SESSION_MESSAGES; m++) {
                String echo = chat.say("m" + m);
                if (!echo.endsWith(": m" + m)) {
                    throw new IOException("websocket message " + m + " echoed as " + echo);
                }
                String from = echo.substring(0, echo.length() - (": m" + m).length());
                if (instance != null && !instance.equals(from)) {
                    throw new IOException("websocket session moved from " + instance + " to " + from);
                }
                instance = from;
                Thread.sleep(PAUSE_MILLIS); // pacing: a session that lasts a while
            }
            answers.add(new Answer(Kind.WEBSOCKET, route, instance, start, answered));
        }
        counts.get(Kind.WEBSOCKET).incrementAndGet();
    }

    private void tcpStreams(int i) throws Exception {
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", target.tcpPort()), 5000);
            s.setSoTimeout(15_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String instance = line(in);
            long answered = System.nanoTime();
            if (instance == null) {
                throw new IOException("tcp stream: closed before the upstream's greeting");
            }
            for (int m = 0; m < SESSION_MESSAGES; m++) {
                out.write(("ping " + m + "\n").getBytes(StandardCharsets.UTF_8));
                String echo = line(in);
                if (!("ping " + m).equals(echo)) {
                    throw new IOException("tcp stream to " + instance + ": ping " + m + " echoed as " + echo);
                }
                Thread.sleep(PAUSE_MILLIS); // pacing: a stream that lasts a while
            }
            s.shutdownOutput();
            if (in.read() != -1) {
                throw new IOException("tcp stream to " + instance + ": bytes after the end");
            }
            answers.add(new Answer(Kind.TCP, null, instance, start, answered));
            counts.get(Kind.TCP).incrementAndGet();
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                return b.toString();
            }
            b.append((char) c);
        }
        return null;
    }
}
