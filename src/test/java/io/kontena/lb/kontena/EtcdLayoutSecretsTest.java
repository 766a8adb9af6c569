package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.LbConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The load balancer's secrets/ keys: which vault secrets make which of its variables, and what is wrong with them. */
class EtcdLayoutSecretsTest {
    private static final String LB = "/kontena/haproxy/lb/";

    @Test
    void aKeyMapsItsSecretsInOrderIntoItsVariable() {
        Map<String, String> keys = Map.of(LB + "secrets/SSL_CERTS", "www_cert, api_cert",
                LB + "secrets/SSL_CERT_shop", "shop_cert");
        assertThat(EtcdLayout.secrets("lb", keys)).containsExactly(new SecretRef("www_cert", "SSL_CERTS", "env"),
                new SecretRef("api_cert", "SSL_CERTS", "env"), new SecretRef("shop_cert", "SSL_CERT_shop", "env"));
        assertThat(EtcdLayout.translate("lb", keys, Map.of(), List.of()).problems()).isEmpty();
    }

    @Test
    void aBadKeyIsLeftOutAndSaysWhy() {
        Map<String, String> keys = Map.of(LB + "secrets/DB_PASSWORD", "db", LB + "secrets/SSL_CERTS", "www cert");
        assertThat(EtcdLayout.secrets("lb", keys)).isEmpty();
        LbConfig config = EtcdLayout.translate("lb", keys, Map.of(), List.of());
        assertThat(config.problems()).map(Object::toString).containsExactlyInAnyOrder(
                "lb: " + LB + "secrets/DB_PASSWORD=db: " + LB + "secrets/DB_PASSWORD: not a variable of the load "
                        + "balancer; /kontena/haproxy/<lb>/secrets/<VARIABLE> maps secrets to SSL_CERTS, "
                        + "SSL_CERT_<name>, KONTENA_LB_<...> or ACME_CHALLENGE_<token>; it is left out",
                "lb: SSL_CERTS=www cert: " + LB + "secrets/SSL_CERTS: 'www cert' is not a secret's name; the value is "
                        + "the names of vault secrets, comma-separated (letters, digits, '_' and '-'), joined into "
                        + "SSL_CERTS in that order; it is left out");
    }

    @Test
    void aStackFilesLoadBalancerIsPublishedWithItsMappings() {
        StackService lb = new StackService("lb", "kontena/lb", Map.of(), List.of(), List.of(), List.of(),
                List.of(new SecretRef("www_cert", "SSL_CERTS", "env"), new SecretRef("api_cert", "SSL_CERTS", "env"),
                        new SecretRef("x", "/etc/x", "file")), Map.of());
        assertThat(EtcdLayout.secretKeysOf(lb)).isEqualTo(Map.of("SSL_CERTS", "www_cert,api_cert"));
    }
}
