package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.BasicAuth;
import io.kontena.lb.config.LbConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** KONTENA_LB_BASIC_AUTH_SECRETS: HAProxy userlist lines into users, or into problems that never show a password. */
class BasicAuthUsersTest {
    private static LbConfig translate(String secrets, String mode) {
        StackService lb = new StackService("lb", "kontena/lb", Map.of(), List.of(), List.of(), List.of(), List.of(),
                Map.of());
        StackService web = new StackService("web", "whoami", Map.of("KONTENA_LB_MODE", mode,
                "KONTENA_LB_BASIC_AUTH_SECRETS", secrets), List.of(Link.of("lb")), List.of(),
                List.of("10.0.0.1"), List.of(), Map.of());
        return Translator.translate(new Stack(Optional.empty(), List.of(lb, web)), Optional.empty());
    }

    @Test
    void usersWithHashesOrPlainPasswords() {
        LbConfig config = translate("""
                user admin password $6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/
                user guest insecure-password letmein groups readers
                """, "http");
        assertThat(config.problems()).isEmpty();
        assertThat(config.http().get(0).basicAuth()).map(BasicAuth::users).hasValueSatisfying(users -> {
            assertThat(users).extracting(BasicAuth.User::name).containsExactly("admin", "guest");
            assertThat(users.get(0).hashed()).isTrue();
            assertThat(users.get(1).password()).isEqualTo("letmein");
        });
    }

    @Test
    void badLinesAreProblemsThatDoNotRepeatThePassword() {
        assertThat(translate("user admin secret hunter2", "http").problems()).singleElement().asString()
                .contains("web: KONTENA_LB_BASIC_AUTH_SECRETS=(not shown): line 1: expected", "insecure-password PLAIN")
                .doesNotContain("hunter2");
        assertThat(translate("alice:$apr1$xyz$abc", "http").problems()).singleElement().asString()
                .doesNotContain("apr1");
        assertThat(translate("user a password $6$rounds=999999$salt$abc", "http").problems()).singleElement()
                .asString().contains("up to 100,000 rounds").doesNotContain("999999");
        assertThat(translate("user a password $1$saltsaltsalt$0123456789012345678901", "http").problems())
                .singleElement().asString().contains("not a crypt(3) hash");
        assertThat(translate("user admin password $2y$10$abcdefghijklmnopqrstuu", "http").problems())
                .singleElement().asString().contains("bcrypt hashes are not supported", "$6$");
        assertThat(translate("user a insecure-password x\nuser a insecure-password y", "http").problems())
                .singleElement().asString().contains("user a is given twice");
        assertThat(translate("", "http").problems()).singleElement().asString().contains("no user is given");
        assertThat(translate("user a insecure-password x", "tcp").problems()).singleElement().asString()
                .contains("KONTENA_LB_BASIC_AUTH_SECRETS=(not shown)").doesNotContain("insecure-password x");
    }
}
