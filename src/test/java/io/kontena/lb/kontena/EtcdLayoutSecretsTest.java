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
        assertThat(EtcdLayout.secrets("lb", keys).lb()).containsExactly(new SecretRef("www_cert", "SSL_CERTS", "env"),
                new SecretRef("api_cert", "SSL_CERTS", "env"), new SecretRef("shop_cert", "SSL_CERT_shop", "env"));
        assertThat(EtcdLayout.translate("lb", keys, Map.of(), List.of()).problems()).isEmpty();
    }

    @Test
    void aBadKeyIsLeftOutAndSaysWhy() {
        Map<String, String> keys = Map.of(LB + "secrets/DB_PASSWORD", "db", LB + "secrets/SSL_CERTS", "www cert");
        assertThat(EtcdLayout.secrets("lb", keys).isEmpty()).isTrue();
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
    void aServicesMappingStandsForItsKeyOnceResolvedAndIsAProblemUntilThen() {
        String web = LB + "services/web/";
        Map<String, String> keys = Map.of(web + "balance", "roundrobin", web + "virtual_path", "/",
                web + "secrets/KONTENA_LB_BASIC_AUTH_SECRETS", "web_users",
                LB + "tcp-services/db/balance", "roundrobin", LB + "tcp-services/db/secrets/KONTENA_LB_COOKIE", "c");
        EtcdLayout.Secrets secrets = EtcdLayout.secrets("lb", keys);
        assertThat(secrets.services()).containsOnlyKeys("services/web/");
        assertThat(secrets.services().get("services/web/"))
                .containsExactly(new SecretRef("web_users", "KONTENA_LB_BASIC_AUTH_SECRETS", "env"));

        LbConfig unresolved = EtcdLayout.translate("lb", keys, Map.of(), List.of());
        assertThat(unresolved.http()).isEmpty();
        assertThat(unresolved.problems()).map(Object::toString).anySatisfy(p -> assertThat(p)
                .contains("web: " + web + "secrets/KONTENA_LB_BASIC_AUTH_SECRETS=(not shown)",
                        "not read from the vault"));
        assertThat(unresolved.problems()).map(Object::toString).anySatisfy(p -> assertThat(p)
                .contains("db: " + LB + "tcp-services/db/secrets/KONTENA_LB_COOKIE=c: not a variable of the service's "
                        + "keys; secrets/<VARIABLE> maps secrets to one of KONTENA_LB_BALANCE"));

        Map<String, String> resolved = EtcdLayout.withSecrets("lb", keys, "services/web/",
                Map.of("KONTENA_LB_BASIC_AUTH_SECRETS", "user alice insecure-password wonderland"));
        assertThat(resolved).containsEntry(web + "basic_auth_secrets", "user alice insecure-password wonderland")
                .doesNotContainKey(web + "secrets/KONTENA_LB_BASIC_AUTH_SECRETS");
        assertThat(EtcdLayout.translate("lb", resolved, Map.of(), List.of()).http()).singleElement()
                .satisfies(s -> assertThat(s.basicAuth()).isPresent());
        assertThat(EtcdLayout.withoutService("lb", keys, "services/web/")).doesNotContainKeys(web + "balance");
    }

    @Test
    void theSubtreeOfAStacksLoadBalancerNamedSecretsIsNotTakenForMappings() {
        String inner = "/kontena/haproxy/shop/secrets/services/web/";
        Map<String, String> keys = Map.of(inner + "balance", "roundrobin", inner + "virtual_path", "/",
                "/kontena/haproxy/shop/secrets/SSL_CERTS", "www_cert");
        assertThat(EtcdLayout.lbNameOf(inner + "balance")).contains("shop/secrets");
        assertThat(EtcdLayout.lbNameOf("/kontena/haproxy/shop/secrets/SSL_CERTS")).contains("shop");
        assertThat(EtcdLayout.secrets("shop", keys).lb()).containsExactly(new SecretRef("www_cert", "SSL_CERTS", "env"));
        assertThat(EtcdLayout.translate("shop", keys, Map.of(), List.of()).problems()).isEmpty();
        assertThat(EtcdLayout.translate("shop/secrets", keys, Map.of(), List.of()).http()).hasSize(1);
    }

    @Test
    void aStackFilesLoadBalancerIsPublishedWithItsMappings() {
        StackService lb = new StackService("lb", "kontena/lb", Map.of(), List.of(), List.of(), List.of(),
                List.of(new SecretRef("www_cert", "SSL_CERTS", "env"), new SecretRef("api_cert", "SSL_CERTS", "env"),
                        new SecretRef("x", "/etc/x", "file")), Map.of());
        assertThat(EtcdLayout.secretKeysOf(lb)).isEqualTo(Map.of("SSL_CERTS", "www_cert,api_cert"));
    }
}
