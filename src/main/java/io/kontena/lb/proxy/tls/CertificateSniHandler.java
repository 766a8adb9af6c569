package io.kontena.lb.proxy.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AttributeKey;
import io.netty.util.Mapping;

/**
 * Reads the client hello, takes the context the store has for its SNI name at that moment, and replaces itself
 * with the {@link io.netty.handler.ssl.SslHandler} for it.
 */
public final class CertificateSniHandler extends SniHandler {
    /** The SNI name the client sent, lower case; absent when it sent none. For logs and {@code Host} checks. */
    public static final AttributeKey<String> SNI_HOST_NAME = AttributeKey.valueOf("kontena.sniHostName");

    /** Bounds the memory a client can make us hold before the handshake starts. */
    static final int MAX_CLIENT_HELLO_LENGTH = 16 * 1024;
    /** A connection that sends no client hello in this time is closed (slowloris on TLS). */
    static final long CLIENT_HELLO_TIMEOUT_MILLIS = 10_000;

    CertificateSniHandler(Mapping<String, SslContext> mapping) {
        super(mapping, MAX_CLIENT_HELLO_LENGTH, CLIENT_HELLO_TIMEOUT_MILLIS);
    }

    @Override
    protected void replaceHandler(ChannelHandlerContext ctx, String hostname, SslContext sslContext)
            throws Exception {
        if (hostname != null) {
            ctx.channel().attr(SNI_HOST_NAME).set(hostname);
        }
        super.replaceHandler(ctx, hostname, sslContext);
    }
}
