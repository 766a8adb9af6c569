package io.kontena.lb.proxy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class RequestTargetTest {

    static String host(String header) {
        long r = RequestTarget.host(header, 0, header.length());
        return r == RequestTarget.NONE ? "<none>" : header.substring(RequestTarget.start(r), RequestTarget.end(r));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "example.com|example.com",
            "example.com:8080|example.com",
            "example.com.|example.com",
            "example.com.:80|example.com",
            "[::1]:8080|::1",
            "[::1]|::1",
            "[2001:db8::1]:443|2001:db8::1",
            "2001:db8::1|2001:db8::1",
            "127.0.0.1:80|127.0.0.1",
            "user@example.com:80|example.com",
            "':80'|<none>",
            "'.'|<none>",
            "'  '|<none>",
    })
    void hostIsFoundWithoutPortOrTrailingDot(String header, String expected) {
        assertThat(host(header)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/a/b?c|-1|0|4",
            "http://h:1/a?c|7|10|12",
            "http://h|7|8|8",
            "http://h?x|7|8|8",
            "*|-1|0|1",
            "h:443|-1|0|5",
            "/x?u=http://y|-1|0|2",
    })
    void partsOfTheRequestTarget(String uri, int authority, int pathStart, int pathEnd) {
        assertThat(RequestTarget.authorityStart(uri)).isEqualTo(authority);
        assertThat(RequestTarget.pathStart(uri, authority)).isEqualTo(pathStart);
        assertThat(RequestTarget.pathEnd(uri, pathStart)).isEqualTo(pathEnd);
    }
}
