package io.kontena.lb.proxy.http;

import io.kontena.lb.balance.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The end of an upstream connection's pipeline: passes what the upstream sends to the client exchange that
 * currently owns the connection, or, while the connection sits idle in a pool, drops it from the pool
 * when the upstream closes it or sends anything unasked.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    static final String NAME = "upstream";

    private Channel channel;
    private HttpProxyHandler owner;
    private UpstreamPool pool;
    private Endpoint endpoint;
    private long idleSince;

    /** Looked up by name once, when a new connection is attached; afterwards its users keep the handler. */
    static UpstreamHandler of(Channel ch) {
        return (UpstreamHandler) ch.pipeline().get(NAME);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    /** The upstream connection this handler ends the pipeline of. */
    Channel channel() {
        return channel;
    }

    void own(HttpProxyHandler exchange) {
        owner = exchange;
        pool = null;
        endpoint = null;
    }

    void idle(UpstreamPool idlePool, Endpoint idleEndpoint, long now) {
        owner = null;
        pool = idlePool;
        endpoint = idleEndpoint;
        idleSince = now;
    }

    long idleSince() {
        return idleSince;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (owner != null) {
            owner.onUpstreamRead(msg);
        } else {
            ReferenceCountUtil.release(msg);
            closeIdle(ctx);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (owner != null) {
            owner.onUpstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (owner != null && ctx.channel().isWritable()) {
            owner.onUpstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (owner != null) {
            HttpProxyHandler o = owner;
            owner = null;
            o.onUpstreamClosed(ctx.channel());
        } else {
            closeIdle(ctx);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Closing is enough: channelInactive tells the owner, which answers its client.
        ctx.close();
    }

    private void closeIdle(ChannelHandlerContext ctx) {
        if (pool != null) {
            UpstreamPool p = pool;
            pool = null;
            p.discard(endpoint, this);
        } else {
            ctx.close();
        }
    }
}
