package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore.WriteMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line as a user meets it: output, exit status, help, and one-line errors. */
class CliTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLineFor(args);   // as main() builds it
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private Path file(String text) throws Exception {
        Path p = Files.createTempFile(dir, "stack", ".yml");
        Files.writeString(p, text);
        return p;
    }

    private static final String VALID = """
            stack: shop
            version: '1'
            services:
              internet_lb:
                image: kontena/lb:latest
                ports:
                  - 8080:80
                  - 5432:5000
              web:
                image: nginx
                environment:
                  - KONTENA_LB_MODE=http
                  - KONTENA_LB_BALANCE=source
                  - KONTENA_LB_VIRTUAL_HOSTS=www.example.com,*.example.org
                  - KONTENA_LB_VIRTUAL_PATH=/shop
                links:
                  - internet_lb
                upstreams: ["10.0.0.1", "10.0.0.2:8081"]
              db:
                image: postgres
                environment:
                  KONTENA_LB_MODE: tcp
                  KONTENA_LB_BALANCE: leastcon
                  KONTENA_LB_EXTERNAL_PORT: 5000
                  KONTENA_LB_INTERNAL_PORT: 5432
                links:
                  - internet_lb
                upstreams: ["10.0.0.3"]
            """;

    @Test
    void validatePrintsTheResolvedConfigurationAndExitsZero() throws Exception {
        Result r = cli("validate", "--stack", file(VALID).toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out())
                .contains("http  port 8080")
                .contains("tcp   port 5432")
                .contains("www.example.com").contains("*.example.org")
                .contains("/shop")
                .contains("source")
                .contains("leastconn")
                .contains("10.0.0.1:80").contains("10.0.0.2:8081").contains("10.0.0.3:5432");
        assertThat(r.out()).doesNotContain("problems:");
    }

    @Test
    void validateShowsHttpsTheCertificatesTheDefaultAndWhatNeedsRenewing() throws Exception {
        TestCertificates.Issued www = TestCertificates.cert("www.example.test").sans("www.example.test",
                "*.example.test").build();
        TestCertificates.Issued soon = TestCertificates.cert("soon.example.test").sans("soon.example.test")
                .expiresIn(Duration.ofDays(5)).build();
        Result r = cli("validate", "--stack", file("""
                services:
                  lb:
                    image: kontena/lb
                    ports: ["8443:443"]
                    environment:
                      KONTENA_LB_DEFAULT_CERT: SSL_CERT_soon
                      KONTENA_LB_HTTP2: "false"
                      SSL_CERTS: |
                %s
                      SSL_CERT_soon: |
                %s
                  db:
                    image: postgres
                    environment: {KONTENA_LB_MODE: tcp, KONTENA_LB_EXTERNAL_PORT: 5432, KONTENA_LB_TLS: terminate}
                    links: [lb]
                    upstreams: ["10.0.0.3:5432"]
                """.formatted(www.bundle().indent(8), soon.bundle().indent(8))).toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out())
                .contains("https port 8443 (HTTP/1.1)")
                .contains("tcp   port 5432  -> db (TLS terminated)")
                .containsPattern("SSL_CERTS#1\\n    names:     www.example.test, \\*.example.test\\n"
                        + "    expires:   \\S+ \\(\\d+ days, valid\\)")
                .containsPattern("SSL_CERT_soon \\(default\\)\\n    names:     soon.example.test\\n"
                        + "    expires:   \\S+ \\([45] days, expiring\\)")
                .contains("certificate warnings:").contains("expires on");
    }

    @Test
    void validateReadsSecretsFromTheVaultAndSaysWhenItsKeyIsWrong() throws Exception {
        Path vault = dir.resolve("vault.json");
        try (FileSecretStore store = new FileSecretStore(vault, Optional.empty(), Duration.ofSeconds(1))) {
            store.write("www_cert", TestCertificates.cert("www.example.test").build().bundle(), WriteMode.CREATE);
            store.write("api_cert", TestCertificates.cert("api.example.test").build().bundle(), WriteMode.CREATE);
        }
        Path stack = file("""
                services:
                  lb:
                    image: kontena/lb
                    secrets:
                      - {secret: www_cert, name: SSL_CERTS, type: env}
                      - {secret: api_cert, name: SSL_CERTS, type: env}
                """);
        Result r = cli("validate", "--stack", stack.toString(), "--vault", vault.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("https port 443")
                .containsPattern("SSL_CERTS#1 \\(default\\)\\n    names:     www.example.test\\n")
                .containsPattern("SSL_CERTS#2\\n    names:     api.example.test\\n");

        byte[] otherKey = new byte[32];
        new SecureRandom().nextBytes(otherKey);
        Files.writeString(dir.resolve("vault.key"), Base64.getEncoder().encodeToString(otherKey));
        r = cli("validate", "--stack", stack.toString(), "--vault", vault.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip()).doesNotContain("\n").startsWith("invalid: cannot read the secrets of " + stack
                + " from the vault: vault key does not match the one the vault was written with");
    }

    @Test
    void validateListsEveryProblemAndExitsOne() throws Exception {
        Result r = cli("validate", "--stack", file("""
                services:
                  lb:
                    image: kontena/lb:latest
                  web:
                    image: nginx
                    environment:
                      - KONTENA_LB_BALANCE=fastest
                    links:
                      - lb
                    upstreams: ["10.0.0.1"]
                  api:
                    image: api
                    environment:
                      - KONTENA_LB_INTERNAL_PORT=99999
                    links:
                      - lb
                    upstreams: ["10.0.0.2"]
                  lonely:
                    image: x
                    environment:
                      - KONTENA_LB_VIRTUAL_PATH=/x
                """).toString());
        assertThat(r.exit()).isEqualTo(1);
        String all = r.out() + r.err();
        assertThat(all).contains("web").contains("KONTENA_LB_BALANCE").contains("fastest").contains("roundrobin");
        assertThat(all).contains("api").contains("KONTENA_LB_INTERNAL_PORT").contains("99999");
        assertThat(all).contains("lonely");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "services:\n  lb:\n    image: kontena/lb\n  web: [unclosed\n",
        "services:\n  lb:\n    image: kontena/lb\n    environment: 42\n",
        "- just\n- a list\n",
        "",
        "services:\n  web:\n    image: nginx\n",
        "services:\n  lb:\n    image: kontena/lb\n    environment:\n      - NOT A VARIABLE\n",
    })
    void malformedStackFilesAreOneClearLine(String text) throws Exception {
        Path p = file(text);
        Result validate = cli("validate", "--stack", p.toString());
        assertThat(validate.exit()).isEqualTo(1);
        assertThat(validate.err().strip()).as(validate.err()).doesNotContain("\n").doesNotContain("Exception")
                .doesNotContain("\tat ").isNotBlank();
        Result run = cli("run", "--stack", p.toString(), "--bind", "127.0.0.1");
        assertThat(run.exit()).isNotZero();
        assertThat(run.err().strip()).as(run.err()).doesNotContain("\n").doesNotContain("Exception").isNotBlank();
    }

    @Test
    void missingFileIsOneClearLine() throws Exception {
        String missing = dir.resolve("nope.yml").toString();
        Result r = cli("validate", "--stack", missing);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip()).doesNotContain("\n").contains("nope.yml: no such file");
        r = cli("run", "--stack", missing, "--bind", "127.0.0.1");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err().strip()).doesNotContain("\n").contains("nope.yml: no such file");
        r = cli("validate", "--stack", dir.toString());
        assertThat(r.err().strip()).doesNotContain("\n").contains("a directory, not a stack file");
    }

    /** Option values that cannot work are refused before the stack file is read or anything listens. */
    @ParameterizedTest
    @ValueSource(strings = {
        "--bind=999.1.1.1|--bind 999.1.1.1: not an address",
        "--admin=abc|--admin abc: the port must be a number from 0 to 65535",
        "--admin=127.0.0.1:70000|--admin 127.0.0.1:70000: the port must be a number",
        "--workers=0|--workers must be at least 1",
        "--drain-timeout=-1|--drain-timeout must be 0 or more",
    })
    void badOptionValuesAreOneLineBeforeAnythingListens(String optionAndMessage) throws Exception {
        String[] parts = optionAndMessage.split("\\|");
        Path stack = file("services:\n  lb:\n    image: kontena/lb\n    ports: [\"0:80\"]\n");
        Result r = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> cli("run", "--stack", stack.toString(), parts[0]));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().strip()).doesNotContain("\n").startsWith("error: ").contains(parts[1]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"run --stack x.yml --workers abc", "run --stack x.yml --bogus", "validate",
        "demo --access-log maybe", "frobnicate"})
    void usageMistakesAreOneLinePointingAtTheHelp(String args) {
        Result r = cli(args.split(" "));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().strip()).as(r.err()).doesNotContain("\n").startsWith("error: ").contains("--help")
                .doesNotContain("Usage:");
    }

    @Test
    void lbChoosesAmongSeveralLoadBalancers() throws Exception {
        Path stack = file("""
                services:
                  public:
                    image: kontena/lb
                  private:
                    image: haproxy
                    environment: [KONTENA_SERVICE_ROLE=lb]
                  web:
                    image: nginx
                    links: [public]
                    upstreams: ["10.0.0.1"]
                  db:
                    image: mysql
                    environment: [KONTENA_LB_MODE=tcp, KONTENA_LB_EXTERNAL_PORT=3306]
                    links: [private]
                    upstreams: ["10.0.0.2:3306"]
                """);
        Result r = cli("validate", "--stack", stack.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip()).doesNotContain("\n").contains("several load balancer services")
                .contains("public, private");
        r = cli("validate", "--stack", stack.toString(), "--lb", "public");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("http  port 80").contains("  web").doesNotContain("db");
        r = cli("validate", "--stack", stack.toString(), "--lb", "private");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("tcp   port 3306  -> db").doesNotContain("web");
    }

    @Test
    void unknownLbNameIsOneClearLine() throws Exception {
        Result r = cli("validate", "--stack", file(VALID).toString(), "--lb", "other_lb");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip()).doesNotContain("\n").contains("other_lb").contains("internet_lb");
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "validate", "publish", "register", "demo"})
    void everyCommandHasHelp(String command) {
        Result r = cli(command, "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage:").contains(command);
        if (!command.equals("demo")) {
            assertThat(r.out()).contains("--lb").contains(command.equals("register") ? "--etcd" : "--stack");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", ""})
    void topLevelHelpAndNoArgumentsListTheCommands(String arg) {
        Result r = arg.isEmpty() ? cli() : cli(arg);
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Commands:").containsPattern("(?m)^  run ").containsPattern("(?m)^  validate ")
                .containsPattern("(?m)^  publish ").containsPattern("(?m)^  register ")
                .containsPattern("(?m)^  demo ").containsPattern("(?m)^  vault ");
    }

    @Test
    void helpCommandDescribesEveryOtherCommand() {
        for (String command : new String[] {"run", "validate", "publish", "register", "demo", "vault"}) {
            Result r = cli("help", command);
            assertThat(r.exit()).isZero();
            assertThat(r.out()).startsWith("Usage: kontena-lb " + command);
        }
    }

    @Test
    void aCommandLineForOneSubcommandHoldsThatOneOnly() {
        assertThat(Main.commandLineFor(new String[] {"run", "--stack", "x.yml"}).getSubcommands())
                .containsOnlyKeys("run");
        assertThat(Main.commandLineFor(new String[] {"--help"}).getSubcommands())
                .containsKeys("run", "validate", "publish", "register", "demo", "vault", "help");
    }

    @Test
    void validateShowsEachServicesHealthCheck() throws Exception {
        Result r = cli("validate", "--stack", file("""
                services:
                  lb: {image: kontena/lb}
                  web:
                    image: whoami
                    links: [lb]
                    upstreams: ["10.0.0.1"]
                    health_check: {protocol: http, uri: /health, port: 8081, interval: 5}
                """).toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("    checked:   http GET /health on port 8081 every 5000 ms, timeout 2000 ms");
    }

    @Test
    void aMissingOptionIsNamed() {
        Result r = cli("validate");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--stack").contains("kontena-lb validate --help");
    }
}
