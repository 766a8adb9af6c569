package io.kontena.lb.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A blocking socket server whose behaviour per connection is a lambda: upstreams that misbehave on purpose
 * (close mid-response, never answer) and TCP echo servers. One thread per connection.
 */
public final class RawServer implements AutoCloseable {
    /** What to do with one accepted connection; the socket is closed afterwards. */
    public interface Behaviour {
        void serve(Socket socket, InputStream in, OutputStream out) throws IOException;
    }

    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger finished = new AtomicInteger();

    public RawServer(Behaviour behaviour) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    open.add(s);
                    Thread t = new Thread(() -> {
                        try (s) {
                            behaviour.serve(s, s.getInputStream(), s.getOutputStream());
                        } catch (IOException ignored) {
                            // the peer went away
                        } finally {
                            open.remove(s);
                            finished.incrementAndGet();
                        }
                    }, "raw-server-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "raw-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A TCP upstream that says its name and a newline at once, then echoes until EOF. */
    public static RawServer greeter(String name) throws IOException {
        return new RawServer((s, in, out) -> {
            out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            in.transferTo(out);
        });
    }

    /** The first line a {@link #greeter} greets a connection with (through whatever relays it), waiting at most {@code millis}. */
    public static String greeting(Socket s, int millis) throws IOException {
        s.setSoTimeout(millis);
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    public int port() {
        return server.getLocalPort();
    }

    public int accepted() {
        return accepted.get();
    }

    public int finished() {
        return finished.get();
    }

    /** Reads an HTTP request head (up to the empty line); returns it, or null at end of stream. */
    public static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            b.append((char) c);
            if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) {
                return b.toString();
            }
        }
        return null;
    }

    public static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            try {
                s.close();
            } catch (SocketException ignored) {
                // already closed
            }
        }
    }
}
