package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SuggestionsTest {
    private static final List<String> NAMES = List.of("MODE", "VIRTUAL_HOSTS", "VIRTUAL_PATH", "KEEP_VIRTUAL_PATH");

    @Test
    void suggestsTheClosestName() {
        assertThat(Suggestions.closest("VIRTUAL_HOST", NAMES)).contains("VIRTUAL_HOSTS");
        assertThat(Suggestions.closest("VIRTUAL_PATHS", NAMES)).contains("VIRTUAL_PATH");
        assertThat(Suggestions.closest("MOD", NAMES)).contains("MODE");
        assertThat(Suggestions.closest("KEEP_PATH", NAMES)).contains("KEEP_VIRTUAL_PATH");
    }

    @Test
    void suggestsNothingForAStranger() {
        assertThat(Suggestions.closest("SSL_CERTS", NAMES)).isEmpty();
    }

    @Test
    void distance() {
        assertThat(Suggestions.distance("kitten", "sitting")).isEqualTo(3);
        assertThat(Suggestions.distance("", "abc")).isEqualTo(3);
        assertThat(Suggestions.distance("same", "same")).isZero();
    }
}
