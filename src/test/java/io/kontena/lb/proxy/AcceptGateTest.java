package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Where the gate puts each accepted connection: on the event loop that serves the fewest. */
class AcceptGateTest {
    @Test
    void aConnectionGoesToTheLoopServingTheFewestAndAClosedOneCountsNoMore() throws Exception {
        EventLoopGroup loops = Transport.eventLoops(2, "gate-test");
        try {
            AcceptGate gate = new AcceptGate(ConnectionLimit.of(0), loops);
            List<Channel> first = new ArrayList<>();
            List<EventLoop> placed = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Channel ch = socket();
                EventLoop loop = gate.accepted(ch);
                loop.register(ch).sync();
                first.add(ch);
                placed.add(loop);
            }
            assertThat(placed.stream().distinct().count()).isEqualTo(2);
            assertThat(placed.stream().filter(l -> l == placed.get(0)).count()).isEqualTo(2);
            assertThat(gate.open()).isEqualTo(4);

            // both of one loop's connections end: the next two go there, not one to each loop in turn
            EventLoop emptied = placed.get(0);
            for (int i = 0; i < 4; i++) {
                if (placed.get(i) == emptied) {
                    first.get(i).close().sync();
                }
            }
            assertThat(gate.open()).isEqualTo(2);
            for (int i = 0; i < 2; i++) {
                Channel ch = socket();
                EventLoop loop = gate.accepted(ch);
                assertThat(loop).isSameAs(emptied);
                loop.register(ch).sync();
                first.add(ch);
            }
            for (Channel ch : first) {
                ch.close().sync();
            }
            assertThat(gate.open()).isZero();
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** A real socket channel, not connected: what the gate sees of an accepted connection. */
    private static Channel socket() {
        return Transport.newSocketChannel(new InetSocketAddress("127.0.0.1", 9));
    }
}
