package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.StickyCookie;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** KONTENA_LB_COOKIE: Kontena's default, HAProxy cookie lines, and what is not supported. */
class StickyCookiesTest {
    private static Optional<StickyCookie> read(String value, Problems problems) {
        return StickyCookies.read("web", value, problems);
    }

    @Test
    void theDefaultAndHaproxyLines() {
        Problems problems = new Problems();
        assertThat(read("", problems)).contains(StickyCookie.DEFAULT);
        assertThat(read("cookie JSESSIONID prefix nocache", problems)).contains(new StickyCookie("JSESSIONID",
                StickyCookie.Mode.PREFIX, false, true, false, false, Optional.empty()));
        assertThat(read("cookie SRV insert indirect httponly secure domain .example.com", problems)).contains(
                new StickyCookie("SRV", StickyCookie.Mode.INSERT, true, false, true, true,
                        Optional.of(".example.com")));
        assertThat(problems.list()).isEmpty();
    }

    @Test
    void eachMistakeIsAProblem() {
        for (String[] c : new String[][] {
                {"JSESSIONID", "expected empty"},
                {"cookie SRV", "expected empty"},
                {"cookie SRV indirect", "insert or prefix"},
                {"cookie SRV insert prefix", "one of insert and prefix"},
                {"cookie SRV rewrite", "'rewrite' is not supported"},
                {"cookie SRV insert maxidle 30m", "'maxidle' is not supported"},
                {"cookie SR;V insert", "not a cookie name"},
                {"cookie SRV insert domain", "needs a domain name"}}) {
            Problems problems = new Problems();
            assertThat(read(c[0], problems)).as(c[0]).isEmpty();
            assertThat(problems.list()).as(c[0]).singleElement().asString()
                    .contains("web: KONTENA_LB_COOKIE=", c[1]);
        }
    }
}
