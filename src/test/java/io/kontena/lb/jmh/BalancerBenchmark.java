package io.kontena.lb.jmh;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.balance.UpstreamGroup;
import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Endpoint selection per strategy and group size. The two-thread variant shares one group between two threads,
 * as two event loops share a service, to show what the shared counters cost under contention.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BalancerBenchmark {
    static final int CLIENTS = 1024;

    @State(Scope.Benchmark)
    public static class Group {
        @Param({"ROUND_ROBIN", "SOURCE", "LEAST_CONN"})
        public Balance balance;

        @Param({"3", "20"})
        public int upstreams;

        UpstreamGroup group;
        Endpoint tried;

        @Setup(Level.Trial)
        public void setup() {
            List<Upstream> list = new ArrayList<>();
            for (int i = 0; i < upstreams; i++) {
                list.add(new Upstream("10.0." + (i / 250) + "." + (1 + i % 250), 8080));
            }
            group = new UpstreamGroup("bench", list, balance);
            tried = group.endpoints().get(0);
        }
    }

    @State(Scope.Thread)
    public static class Clients {
        final InetAddress[] addresses = new InetAddress[CLIENTS];
        int next;

        @Setup(Level.Trial)
        public void setup() throws UnknownHostException {
            for (int i = 0; i < CLIENTS; i++) {
                addresses[i] = InetAddress.getByAddress(new byte[]{(byte) 192, (byte) 168, (byte) (i >>> 8), (byte) i});
            }
        }

        InetAddress nextClient() {
            return addresses[next++ & (CLIENTS - 1)];
        }
    }

    @Benchmark
    public Endpoint select(Group g, Clients c) {
        return g.group.select(c.nextClient(), List.of());
    }

    /** A retry: the endpoint tried first is excluded. */
    @Benchmark
    public Endpoint selectExcludingOne(Group g, Clients c) {
        return g.group.select(c.nextClient(), List.of(g.tried));
    }

    /** A whole request's bookkeeping: select, begin, end. */
    @Benchmark
    public Endpoint selectBeginEnd(Group g, Clients c) {
        Endpoint e = g.group.select(c.nextClient(), List.of());
        e.begin();
        e.end();
        return e;
    }

    @Benchmark
    @Threads(2)
    public Endpoint selectBeginEndTwoThreads(Group g, Clients c) {
        Endpoint e = g.group.select(c.nextClient(), List.of());
        e.begin();
        e.end();
        return e;
    }
}
