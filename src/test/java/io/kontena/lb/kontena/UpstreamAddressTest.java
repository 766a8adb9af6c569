package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kontena.lb.config.Upstream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UpstreamAddressTest {

    @ParameterizedTest
    @CsvSource({
            "10.0.0.1, 10.0.0.1, 8080",
            "10.0.0.1:9000, 10.0.0.1, 9000",
            "web-1.internal, web-1.internal, 8080",
            "web-1.internal:81, web-1.internal, 81",
            "[fd00::1]:9000, fd00::1, 9000",
            "[::1], ::1, 8080",
            "' db:5432 ', db, 5432",
    })
    void readsEntriesWithTheDefaultPort(String entry, String host, int port) {
        assertThat(UpstreamAddress.parse(entry, 8080)).isEqualTo(new Upstream(host, port));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "'' | empty entry",
            "fd00::1 | an IPv6 address goes in brackets",
            "http://10.0.0.1 | without a scheme",
            "10.0.0.1:0 | is not a port",
            "10.0.0.1:65536 | is not a port",
            "10.0.0.1:http | is not a port",
            "10.0.0.1: | is not a port",
            "[fd00::1 | expected host, host:port or [IPv6]:port",
            "[fd00::1]9000 | expected host, host:port or [IPv6]:port",
            "[nothex]:80 | 'nothex' is not an IPv6 address",
            "a b:80 | 'a b' is not a host name or IPv4 address",
            "10.0.0.256 | '10.0.0.256' is not a host name or IPv4 address",
    })
    void refusesMalformedEntries(String entry, String hint) {
        assertThatThrownBy(() -> UpstreamAddress.parse(entry, 80))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(hint);
    }
}
