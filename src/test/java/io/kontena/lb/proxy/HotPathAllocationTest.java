package io.kontena.lb.proxy;

import io.kontena.lb.balance.UpstreamGroup;
import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Upstream;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static io.kontena.lb.proxy.RoutingTableTest.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Routing and endpoint selection run for every request, so they must make no garbage. */
class HotPathAllocationTest {
    static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    interface Work {
        void run(int i);
    }

    static long bytesPerCall(Work work) {
        for (int i = 0; i < 50_000; i++) {
            work.run(i);
        }
        long id = Thread.currentThread().getId();
        long before = THREADS.getThreadAllocatedBytes(id);
        int calls = 100_000;
        for (int i = 0; i < calls; i++) {
            work.run(i);
        }
        return (THREADS.getThreadAllocatedBytes(id) - before) / calls;
    }

    @Test
    void routingAllocatesNothing() {
        assumeThat(THREADS.isThreadAllocatedMemorySupported()).isTrue();
        List<HttpService> services = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            services.add(service("s" + i, List.of("h" + i + ".example.com"), List.of("/api/v" + i)));
            services.add(service("w" + i, List.of("*.w" + i + ".example.com"), List.of()));
        }
        services.add(service("paths", List.of(), List.of("/static", "/")));
        RoutingTable<String> t = RoutingTable.build(services, HttpService::name);
        String[] hosts = {"H7.example.com:8080", "a.b.w9.example.com", "nowhere.org", "[::1]:80"};
        String[] uris = {"/api/v7/users/42?x=1", "/static/app.js", "http://h3.example.com/api/v3/x", "/"};
        Object[] sink = new Object[1];
        long perCall = bytesPerCall(i -> sink[0] = t.route(hosts[i & 3], uris[(i >> 2) & 3]));
        assertThat(perCall).isZero();
    }

    @Test
    void selectionAllocatesNothing() throws Exception {
        assumeThat(THREADS.isThreadAllocatedMemorySupported()).isTrue();
        List<Upstream> ups = List.of(new Upstream("10.0.0.1", 80), new Upstream("10.0.0.2", 80),
                new Upstream("10.0.0.3", 80));
        InetAddress[] clients = {InetAddress.getByName("192.0.2.1"), InetAddress.getByName("2001:db8::1")};
        for (Balance b : Balance.values()) {
            UpstreamGroup g = new UpstreamGroup("s", ups, b);
            Object[] sink = new Object[1];
            long perCall = bytesPerCall(i -> sink[0] = g.select(clients[i & 1], List.of()));
            assertThat(perCall).as(b.toString()).isZero();
        }
    }
}
