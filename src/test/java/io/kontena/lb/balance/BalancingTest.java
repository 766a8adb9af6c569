package io.kontena.lb.balance;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BalancingTest {

    static List<Upstream> upstreams(int n) {
        List<Upstream> list = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            list.add(new Upstream("10.0.0." + i, 8080));
        }
        return list;
    }

    static InetAddress ip(int i) {
        try {
            return InetAddress.getByAddress(new byte[]{(byte) 192, (byte) 168, (byte) (i >>> 8), (byte) i});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static InetAddress clientIp(int i) {
        try {
            return InetAddress.getByAddress(new byte[]{
                    (byte) (1 + (i >>> 16) % 200), (byte) (i >>> 8), (byte) i, (byte) (i * 7)});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static Map<Endpoint, Integer> spread(UpstreamGroup g, int calls) {
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < calls; i++) {
            counts.merge(g.select(ip(i), List.of()), 1, Integer::sum);
        }
        return counts;
    }

    @Nested
    class RoundRobin {
        @Test
        void spreadsExactlyEvenly() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(3), Balance.ROUND_ROBIN);
            Map<Endpoint, Integer> counts = spread(g, 3 * 1000);
            assertThat(counts).hasSize(3).allSatisfy((e, n) -> assertThat(n).isEqualTo(1000));
        }

        @Test
        void visitsEachInTurn() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(4), Balance.ROUND_ROBIN);
            List<Endpoint> first = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                first.add(g.select(null, List.of()));
            }
            assertThat(first).containsExactlyInAnyOrderElementsOf(g.endpoints());
            for (int i = 0; i < 8; i++) {
                assertThat(g.select(null, List.of())).isSameAs(first.get(i % 4));
            }
        }

        @Test
        void skipsExcludedDrainingAndUnhealthy() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(4), Balance.ROUND_ROBIN);
            List<Endpoint> e = g.endpoints();
            e.get(1).setHealthy(false);
            for (int i = 0; i < 100; i++) {
                assertThat(g.select(null, List.of(e.get(0)))).isIn(e.get(2), e.get(3));
            }
            e.get(1).setHealthy(true);
            assertThat(spread(g, 400)).containsOnlyKeys(e);
        }

        @Test
        void noneEligibleGivesNull() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(2), Balance.ROUND_ROBIN);
            assertThat(g.select(null, g.endpoints())).isNull();
            assertThat(new UpstreamGroup("empty", List.of(), Balance.ROUND_ROBIN).select(null, List.of())).isNull();
        }
    }

    @Nested
    class LeastConnections {
        @Test
        void picksTheFewestActive() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(3), Balance.LEAST_CONN);
            List<Endpoint> e = g.endpoints();
            e.get(0).begin();
            e.get(0).begin();
            e.get(1).begin();
            for (int i = 0; i < 10; i++) {
                assertThat(g.select(null, List.of())).isSameAs(e.get(2));
            }
            e.get(2).begin();
            e.get(2).begin();
            assertThat(g.select(null, List.of())).isSameAs(e.get(1));
            e.get(0).end();
            e.get(0).end();
            assertThat(g.select(null, List.of())).isSameAs(e.get(0));
        }

        @Test
        void spreadsTiesInTurn() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(4), Balance.LEAST_CONN);
            Map<Endpoint, Integer> counts = spread(g, 4 * 250);
            assertThat(counts).hasSize(4).allSatisfy((e, n) -> assertThat(n).isEqualTo(250));
        }

        @Test
        void aSlowEndpointGetsLessWork() {
            // Endpoint 0 never finishes its requests; the others finish at once. It gets one, then no more.
            UpstreamGroup g = new UpstreamGroup("s", upstreams(3), Balance.LEAST_CONN);
            Endpoint slow = g.endpoints().get(0);
            int toSlow = 0;
            for (int i = 0; i < 300; i++) {
                Endpoint e = g.select(null, List.of());
                e.begin();
                if (e == slow) {
                    toSlow++;
                } else {
                    e.end();
                }
            }
            assertThat(toSlow).isEqualTo(1);
        }

        @Test
        void respectsExclude() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(2), Balance.LEAST_CONN);
            Endpoint idle = g.endpoints().get(0);
            Endpoint busy = g.endpoints().get(1);
            busy.begin();
            assertThat(g.select(null, List.of(idle))).isSameAs(busy);
            assertThat(g.select(null, List.of(idle, busy))).isNull();
        }
    }

    @Nested
    class Source {
        static final int CLIENTS = 20_000;

        Map<Integer, Upstream> assignment(UpstreamGroup g) {
            Map<Integer, Upstream> a = new HashMap<>();
            for (int i = 0; i < CLIENTS; i++) {
                a.put(i, g.select(clientIp(i), List.of()).upstream());
            }
            return a;
        }

        @Test
        void sameClientSameEndpoint() throws Exception {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(5), Balance.SOURCE);
            for (int i = 0; i < 200; i++) {
                Endpoint first = g.select(clientIp(i), List.of());
                for (int k = 0; k < 5; k++) {
                    assertThat(g.select(InetAddress.getByAddress(clientIp(i).getAddress()), List.of())).isSameAs(first);
                }
            }
            // A new group over the same upstreams (another process, a restart) maps clients the same way.
            assertThat(assignment(new UpstreamGroup("t", upstreams(5), Balance.SOURCE))).isEqualTo(assignment(g));
        }

        @Test
        void spreadsClientsEvenly() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(5), Balance.SOURCE);
            Map<Upstream, Long> perUpstream = new HashMap<>();
            assignment(g).values().forEach(u -> perUpstream.merge(u, 1L, Long::sum));
            assertThat(perUpstream).hasSize(5)
                    .allSatisfy((u, n) -> assertThat((double) n).isCloseTo(CLIENTS / 5.0, within(CLIENTS / 5.0 * 0.1)));
        }

        @Test
        void removingOneOfNMovesOnlyItsClients() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(5), Balance.SOURCE);
            Map<Integer, Upstream> before = assignment(g);
            Upstream gone = upstreams(5).get(2);
            g.update(upstreams(5).stream().filter(u -> !u.equals(gone)).toList(), Balance.SOURCE);
            Map<Integer, Upstream> after = assignment(g);
            int moved = 0;
            for (int i = 0; i < CLIENTS; i++) {
                if (!before.get(i).equals(after.get(i))) {
                    moved++;
                    assertThat(before.get(i)).isEqualTo(gone);
                } else {
                    assertThat(before.get(i)).isNotEqualTo(gone);
                }
            }
            assertThat((double) moved / CLIENTS).isCloseTo(1 / 5.0, within(0.02));
        }

        @Test
        void addingOneMovesAboutOneInNPlusOneAllToTheNewOne() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(5), Balance.SOURCE);
            Map<Integer, Upstream> before = assignment(g);
            g.update(upstreams(6), Balance.SOURCE);
            Upstream added = upstreams(6).get(5);
            Map<Integer, Upstream> after = assignment(g);
            int moved = 0;
            for (int i = 0; i < CLIENTS; i++) {
                if (!before.get(i).equals(after.get(i))) {
                    moved++;
                    assertThat(after.get(i)).isEqualTo(added);
                }
            }
            assertThat((double) moved / CLIENTS).isCloseTo(1 / 6.0, within(0.02));
        }

        @Test
        void excludedEndpointGivesWayToTheNextBestAsIfRemoved() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(5), Balance.SOURCE);
            UpstreamGroup without = new UpstreamGroup("t", upstreams(5).subList(1, 5), Balance.SOURCE);
            Endpoint first = g.endpoints().get(0);
            int redirected = 0;
            for (int i = 0; i < 2000; i++) {
                InetAddress c = clientIp(i);
                Endpoint chosen = g.select(c, List.of(first));
                assertThat(chosen).isNotSameAs(first);
                assertThat(chosen.upstream()).isEqualTo(without.select(c, List.of()).upstream());
                if (g.select(c, List.of()) == first) {
                    redirected++;
                }
            }
            assertThat(redirected).isPositive();
        }

        @Test
        void clientsComeBackWhenAnUnhealthyEndpointRecovers() {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(4), Balance.SOURCE);
            Map<Integer, Upstream> before = assignment(g);
            g.endpoints().get(3).setHealthy(false);
            assertThat(assignment(g).values()).doesNotContain(upstreams(4).get(3));
            g.endpoints().get(3).setHealthy(true);
            assertThat(assignment(g)).isEqualTo(before);
        }

        @Test
        void ipv6AndUnknownClients() throws Exception {
            UpstreamGroup g = new UpstreamGroup("s", upstreams(3), Balance.SOURCE);
            InetAddress v6 = InetAddress.getByName("2001:db8::17");
            assertThat(g.select(v6, List.of())).isSameAs(g.select(InetAddress.getByName("2001:db8::17"), List.of()));
            assertThat(g.select(null, List.of())).isNotNull().isSameAs(g.select(null, List.of()));
            Map<Endpoint, Integer> counts = new HashMap<>();
            for (int i = 0; i < 3000; i++) {
                InetAddress a = InetAddress.getByName("2001:db8::" + Integer.toHexString(i));
                counts.merge(g.select(a, List.of()), 1, Integer::sum);
            }
            assertThat(counts).hasSize(3).allSatisfy((e, n) -> assertThat(n).isBetween(800, 1200));
        }
    }
}
