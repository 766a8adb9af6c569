package io.kontena.lb.proxy.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits for the TLS handshake, then hands the pipeline over to the protocol the client and server agreed on:
 * {@code "h2"} or {@code "http/1.1"} (also for clients that do not speak ALPN). Bytes that arrive before the
 * handshake completes are held and passed on after the hand-off. Removes itself. TCP services that terminate TLS
 * use it to start relaying once the handshake is done, whatever the protocol.
 *
 * <pre>{@code
 * pipeline.addLast(tlsStore.newSniHandler(),
 *                  new AlpnHandoff((ctx, protocol) -> {
 *                      if (ApplicationProtocolNames.HTTP_2.equals(protocol)) { ... add HTTP/2 handlers ... }
 *                      else { ... add HTTP/1.1 handlers ... }
 *                  }));
 * }</pre>
 */
public final class AlpnHandoff extends ApplicationProtocolNegotiationHandler {
    private static final Logger log = LoggerFactory.getLogger(AlpnHandoff.class);

    /** Adds the handlers for the negotiated protocol, after the hand-off handler in {@code ctx.pipeline()}. */
    @FunctionalInterface
    public interface Continuation {
        void configure(ChannelHandlerContext ctx, String protocol) throws Exception;
    }

    private final Continuation continuation;

    public AlpnHandoff(Continuation continuation) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.continuation = continuation;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) throws Exception {
        continuation.configure(ctx, protocol);
    }

    /**
     * The client ended its side before the handshake was done (this handler leaves once it is): the handshake can
     * never complete, so the connection closes now rather than at the handshake timeout. Listeners keep connections
     * open after a client's half-close, for the answers to what it sent.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            log.debug("{} ended its side during the TLS handshake", ctx.channel().remoteAddress());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    /** Before the hand-off only TLS can fail (no client hello, no certificate, bad handshake): close, quietly. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("TLS with {} failed before the protocol was chosen: {}", ctx.channel().remoteAddress(),
                cause.toString());
        ctx.close();
    }

    // Scanners and clients that distrust the certificate fail handshakes all day; that is not worth a warning.
    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
