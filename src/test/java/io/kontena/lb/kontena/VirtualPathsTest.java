package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VirtualPathsTest {

    @ParameterizedTest
    @CsvSource({
            "/api, /api",
            "/api/, /api",
            "' /api// ', /api",
            "/, /",
            "//, /",
            "/api/v1, /api/v1",
    })
    void removesTheTrailingSlash(String entry, String expected) {
        assertThat(VirtualPaths.prefix(entry)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "api | starts with '/'",
            "/api?x=1 | no query (?) or fragment (#)",
            "/api#top | no query (?) or fragment (#)",
            "/a b | no spaces",
            "'' | starts with '/'",
    })
    void refusesMalformedPrefixes(String entry, String hint) {
        assertThatThrownBy(() -> VirtualPaths.prefix(entry))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(hint);
    }
}
