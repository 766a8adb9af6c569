package io.kontena.lb.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.config.StickyCookie;
import io.kontena.lb.config.Upstream;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cookie's reading and writing, header by header. */
class StickySessionsTest {
    private static final Endpoint UPSTREAM = new Endpoint(new Upstream("10.0.0.5", 8080));
    private static final StickyCookie PREFIX = new StickyCookie("SID", StickyCookie.Mode.PREFIX, false, false, false,
            false, Optional.empty());

    @Test
    void nocacheKeepsWhatTheUpstreamSaidAboutCaching() {
        for (String[] c : new String[][] {{null, "private"}, {"no-cache", "no-cache, private"},
                {"no-store", "no-store"}, {"private, max-age=60", "private, max-age=60"}}) {
            HttpHeaders headers = new DefaultHttpHeaders();
            if (c[0] != null) {
                headers.set("Cache-Control", c[0]);
            }
            StickySessions.toResponse(StickyCookie.DEFAULT, headers, UPSTREAM, List.of(), "/");
            assertThat(headers.get("Cache-Control")).as(String.valueOf(c[0])).isEqualTo(c[1]);
        }
    }

    @Test
    void theCookiesPathIsTheServicesUnlessACookieCannotNameIt() {
        HttpHeaders api = new DefaultHttpHeaders();
        StickySessions.toResponse(StickyCookie.DEFAULT, api, UPSTREAM, List.of(), "/api");
        assertThat(api.get("Set-Cookie")).isEqualTo("KONTENA_SERVERID=" + UPSTREAM.stickyId() + "; Path=/api");
        HttpHeaders odd = new DefaultHttpHeaders();
        StickySessions.toResponse(StickyCookie.DEFAULT, odd, UPSTREAM, List.of(), "/a;Domain=evil.example");
        assertThat(odd.get("Set-Cookie")).isEqualTo("KONTENA_SERVERID=" + UPSTREAM.stickyId() + "; Path=/");
    }

    @Test
    void prefixReadsOnlyItsOwnPrefixAndSpansSeveralCookieHeaders() {
        HttpHeaders headers = new DefaultHttpHeaders().add("Cookie", "a=1; SID=" + UPSTREAM.stickyId() + "~abc")
                .add("Cookie", "b=2");
        assertThat(StickySessions.fromRequest(PREFIX, headers)).containsExactly(UPSTREAM.stickyId());
        assertThat(headers.getAll("Cookie")).containsExactly("a=1; SID=abc", "b=2");

        HttpHeaders theirs = new DefaultHttpHeaders().add("Cookie", "SID=user~42");
        assertThat(StickySessions.fromRequest(PREFIX, theirs)).isEmpty();
        assertThat(theirs.get("Cookie")).isEqualTo("SID=user~42");
    }
}
