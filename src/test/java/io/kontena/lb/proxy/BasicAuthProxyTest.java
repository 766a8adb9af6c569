package io.kontena.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.BasicAuth;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.apache.commons.codec.digest.Crypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Basic authentication in front of a service, with plain passwords and each kind of crypt(3) hash. */
class BasicAuthProxyTest {
    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    private static String get(String authorization) {
        return "GET / HTTP/1.1\r\nHost: x\r\n" + (authorization == null ? "" : "Authorization: " + authorization
                + "\r\n") + "\r\n";
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aRequestPassesWithTheRightPasswordOnlyAndOthersGetAChallenge() throws Exception {
        WhoAmI web = lb.whoami("web-1");
        BasicAuth auth = new BasicAuth(List.of(
                new BasicAuth.User("sha512", Crypt.crypt("s3cret", "$6$saltsalt"), true),
                new BasicAuth.User("sha256", Crypt.crypt("s3cret", "$5$saltsalt"), true),
                new BasicAuth.User("md5", Crypt.crypt("s3cret", "$1$saltsalt"), true),
                new BasicAuth.User("plain", "s3cret", false)));
        lb.serve(new HttpService("web", Balance.ROUND_ROBIN, List.of(), List.of("/"), false, false,
                List.of(ProxyFixture.at(web)), Timeouts.DEFAULTS, HeaderRules.NONE, Optional.empty(),
                Optional.of(auth), Optional.empty()));
        try (RawHttp c = new RawHttp(lb.httpPort())) {
            RawHttp.Response none = c.send(get(null)).read();
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.header("www-authenticate")).isEqualTo("Basic realm=\"web\", charset=\"UTF-8\"");
            for (String user : List.of("sha512", "sha256", "md5", "plain")) {
                RawHttp.Response ok = c.send(get(basic(user, "s3cret"))).read(); // the same keep-alive connection
                assertThat(ok.status()).as(user).isEqualTo(200);
                assertThat(ok.instance()).isEqualTo("web-1");
                assertThat(c.send(get(basic(user, "s3creT"))).read().status()).as(user).isEqualTo(401);
            }
            assertThat(c.send(get(basic("nobody", "s3cret"))).read().status()).isEqualTo(401);
            assertThat(c.send(get("Basic not-base64!")).read().status()).isEqualTo(401);
            assertThat(c.send(get("Bearer abc")).read().status()).isEqualTo(401);
            assertThat(c.send(get(basic("plain", "s3cret"))).read().status()).as("remembered").isEqualTo(200);
            assertThat(c.send(get(basic("plain", "s3cret").replace("Basic", "basic"))).read().status())
                    .as("the scheme in any case").isEqualTo(200);
        }
    }
}
