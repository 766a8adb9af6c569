package io.kontena.lb.balance;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.Upstream;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class UpstreamGroupTest {
    static final Upstream A = new Upstream("10.0.0.1", 80);
    static final Upstream B = new Upstream("10.0.0.2", 80);
    static final Upstream C = new Upstream("10.0.0.3", 80);
    static final Upstream D = new Upstream("10.0.0.4", 80);

    @Test
    void keepsEndpointsThatStayWithTheirCounters() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B, C), Balance.ROUND_ROBIN);
        Endpoint a = g.endpoints().get(0);
        Endpoint c = g.endpoints().get(2);
        a.begin();
        a.recordFailure();
        c.setHealthy(false);

        List<Endpoint> removed = g.update(List.of(C, D, A), Balance.ROUND_ROBIN);

        assertThat(g.endpoints()).extracting(Endpoint::upstream).containsExactly(C, D, A);
        assertThat(g.endpoints().get(2)).isSameAs(a);
        assertThat(g.endpoints().get(0)).isSameAs(c);
        assertThat(a.active()).isEqualTo(1);
        assertThat(a.requests()).isEqualTo(1);
        assertThat(a.failures()).isEqualTo(1);
        assertThat(c.isHealthy()).isFalse();
        assertThat(removed).extracting(Endpoint::upstream).containsExactly(B);
    }

    @Test
    void removedEndpointsDrainAndAreNeverSelected() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B), Balance.ROUND_ROBIN);
        Endpoint b = g.endpoints().get(1);
        b.begin();
        List<Endpoint> removed = g.update(List.of(A), Balance.ROUND_ROBIN);
        assertThat(removed).containsExactly(b);
        assertThat(b.isDraining()).isTrue();
        assertThat(b.isEligible()).isFalse();
        assertThat(g.drainingEndpoints()).containsExactly(b);
        for (int i = 0; i < 10; i++) {
            assertThat(g.select(null, List.of())).isNotSameAs(b);
        }
    }

    @Test
    void aRetiredGroupDrainsButServesRequestsRoutedBeforeItLeft() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B), Balance.ROUND_ROBIN);
        List<Endpoint> retired = g.retire();
        assertThat(retired).extracting(Endpoint::upstream).containsExactly(A, B);
        assertThat(retired).allMatch(Endpoint::isDraining);
        assertThat(g.drainingEndpoints()).containsExactlyElementsOf(retired);
        // Only a request that read the routing table before the change still holds this group.
        assertThat(g.select(null, List.of())).isIn(retired);
        assertThat(g.select(null, List.of(retired.get(0)))).isSameAs(retired.get(1));
        assertThat(g.select(null, retired)).isNull();
    }

    @Test
    void removalsAreCountedSoADrainDeadlineActsOnlyOnItsOwnRemoval() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B), Balance.ROUND_ROBIN);
        Endpoint b = g.endpoints().get(1);
        g.update(List.of(A), Balance.ROUND_ROBIN);
        int first = b.removals();
        g.update(List.of(A, B), Balance.ROUND_ROBIN);
        g.update(List.of(A), Balance.ROUND_ROBIN);
        assertThat(b.isDraining()).isTrue();
        assertThat(b.removals()).isNotEqualTo(first);
    }

    @Test
    void anUpstreamThatComesBackWhileDrainingGetsItsEndpointBack() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B), Balance.LEAST_CONN);
        Endpoint b = g.endpoints().get(1);
        b.begin();
        g.update(List.of(A), Balance.LEAST_CONN);
        g.update(List.of(A, B), Balance.LEAST_CONN);
        assertThat(g.endpoints().get(1)).isSameAs(b);
        assertThat(b.isDraining()).isFalse();
        assertThat(b.active()).isEqualTo(1);
        assertThat(g.drainingEndpoints()).isEmpty();
    }

    @Test
    void idleDrainedEndpointsAreForgottenOnALaterChange() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B, C), Balance.ROUND_ROBIN);
        Endpoint b = g.endpoints().get(1);
        Endpoint c = g.endpoints().get(2);
        c.begin();
        g.update(List.of(A), Balance.ROUND_ROBIN);
        assertThat(g.drainingEndpoints()).containsExactly(b, c);
        g.update(List.of(A, D), Balance.ROUND_ROBIN);
        assertThat(g.drainingEndpoints()).containsExactly(c);
        c.end();
        g.update(List.of(A, D), Balance.ROUND_ROBIN);
        assertThat(g.drainingEndpoints()).isEmpty();
        g.update(List.of(A, B), Balance.ROUND_ROBIN);
        assertThat(g.endpoints().get(1)).isNotSameAs(b);
    }

    @Test
    void duplicatesCountOnce() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B, A), Balance.ROUND_ROBIN);
        assertThat(g.endpoints()).extracting(Endpoint::upstream).containsExactly(A, B);
    }

    @Test
    void balanceCanChange() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B), Balance.ROUND_ROBIN);
        Endpoint a = g.endpoints().get(0);
        a.begin();
        g.update(List.of(A, B), Balance.LEAST_CONN);
        assertThat(g.balance()).isEqualTo(Balance.LEAST_CONN);
        assertThat(g.endpoints().get(0)).isSameAs(a);
        for (int i = 0; i < 5; i++) {
            assertThat(g.select(null, List.of())).isSameAs(g.endpoints().get(1));
        }
    }

    @Test
    void roundRobinKeepsItsPlaceAcrossAnUpdateThatKeepsTheBalance() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A, B), Balance.ROUND_ROBIN);
        Endpoint first = g.select(null, List.of());
        g.update(List.of(A, B), Balance.ROUND_ROBIN);
        assertThat(g.select(null, List.of())).isNotSameAs(first);
    }

    @Test
    void emptyGroup() {
        UpstreamGroup g = new UpstreamGroup("web", List.of(A), Balance.SOURCE);
        g.update(List.of(), Balance.SOURCE);
        assertThat(g.isEmpty()).isTrue();
        assertThat(g.select(null, List.of())).isNull();
    }
}
