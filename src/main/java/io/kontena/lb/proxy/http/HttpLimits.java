package io.kontena.lb.proxy.http;

/** Size limits of HTTP/1.x messages, on the client and the upstream side alike. */
final class HttpLimits {
    /** A longer request line is answered with 414. */
    static final int MAX_INITIAL_LINE = 8192;
    /** Larger request headers are answered with 431 (HAProxy's buffer is 16 KB as well). */
    static final int MAX_HEADER_SIZE = 16384;
    /** Body pieces are passed on as they come, at most this large each. */
    static final int MAX_CHUNK_SIZE = 65536;
    /**
     * Pipelined requests decoded ahead of their answers. With auto read off, a read takes one socket read of at
     * most 64 KB, and the next read waits until every request of it was answered; 64 KB of the shortest
     * requests (16 bytes) are 4096. Netty's default of 128 would break a client pipelining many small requests.
     */
    static final int MAX_PIPELINED = 4096;

    private HttpLimits() {
    }
}
