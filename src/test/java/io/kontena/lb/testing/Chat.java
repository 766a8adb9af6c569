package io.kontena.lb.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A WebSocket session with a {@code WhoAmI} upstream through the load balancer: each message comes back echoed. */
public final class Chat implements AutoCloseable {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final WebSocket ws;
    private final LinkedBlockingQueue<String> echoes;
    private final CompletableFuture<Integer> closed;

    private Chat(WebSocket ws, LinkedBlockingQueue<String> echoes, CompletableFuture<Integer> closed) {
        this.ws = ws;
        this.echoes = echoes;
        this.closed = closed;
    }

    /** Opens a session to ws://127.0.0.1:port/path; the Host header is 127.0.0.1:port, so route it by path. */
    public static Chat open(int port, String path) throws Exception {
        LinkedBlockingQueue<String> echoes = new LinkedBlockingQueue<>();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        WebSocket ws = CLIENT.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + port + path), new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            echoes.add(partial.toString());
                            partial.setLength(0);
                        }
                        webSocket.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int status, String reason) {
                        closed.complete(status);
                        return null;
                    }

                    @Override
                    public void onError(WebSocket webSocket, Throwable error) {
                        closed.completeExceptionally(error);
                        echoes.add("error: " + error);
                    }
                }).get(10, TimeUnit.SECONDS);
        return new Chat(ws, echoes, closed);
    }

    /** Sends a message and returns its echo ("instance: message"). */
    public String say(String message) throws Exception {
        ws.sendText(message, true).get(10, TimeUnit.SECONDS);
        String echo = echoes.poll(10, TimeUnit.SECONDS);
        if (echo == null) {
            throw new IOException("no echo of " + message + " within 10 s");
        }
        return echo;
    }

    /** Ends the session normally and waits for the upstream's close. */
    @Override
    public void close() throws Exception {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        int status = closed.get(10, TimeUnit.SECONDS);
        if (status != WebSocket.NORMAL_CLOSURE) {
            throw new IOException("closed with status " + status);
        }
    }
}
