package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostNamesTest {

    @ParameterizedTest
    @CsvSource({
            "www.kontena.io, www.kontena.io",
            "' Kontena.IO ', kontena.io",
            "*.Example.com, *.example.com",
            "localhost, localhost",
            "my_service.internal, my_service.internal",
            "10.0.0.1, 10.0.0.1",
            "xn--bcher-kva.example, xn--bcher-kva.example",
    })
    void acceptsAndLowerCasesVirtualHosts(String entry, String expected) {
        assertThat(HostNames.virtualHost(entry)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "www.example.com:8080 | without a port",
            "http://example.com | without http:// or https://",
            "example.com/api | without a path; paths go in KONTENA_LB_VIRTUAL_PATH",
            "www example.com | no spaces; separate names with commas",
            "www.*.example.com | wildcard is allowed only as the whole first label",
            "*example.com | wildcard is allowed only as the whole first label",
            "* | wildcard is allowed only as the whole first label",
            "-www.example.com | expected a host name such as www.example.com",
            "www..example.com | expected a host name such as www.example.com",
            "example.com. | expected a host name such as www.example.com",
            "exa!mple.com | expected a host name such as www.example.com",
            "10.0.0.300 | expected a host name such as www.example.com",
    })
    void refusesMalformedVirtualHosts(String entry, String hint) {
        assertThatThrownBy(() -> HostNames.virtualHost(entry))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(hint);
    }

    @Test
    void aLabelHasAtMost63Characters() {
        assertThat(HostNames.isHostName("a".repeat(63) + ".com")).isTrue();
        assertThat(HostNames.isHostName("a".repeat(64) + ".com")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"db", "10.1.2.3", "Web-1.internal", "255.255.255.255"})
    void upstreamHostNames(String host) {
        assertThat(HostNames.isHostName(host)).isTrue();
    }
}
