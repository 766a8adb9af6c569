package io.kontena.lb.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The vault command through picocli, in this process, as an operator types it. */
class VaultCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @AfterEach
    void restoreStdin() {
        VaultCommand.stdin = System.in;
    }

    private int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 3];
        all[0] = "vault";
        all[1] = "--vault";
        all[2] = dir.resolve("vault.json").toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return cli.execute(all);
    }

    @Test
    void aPemValueGivenAsAnArgumentIsTheValueNotAnOption() {
        String pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assertThat(run("write", "www_cert", pem)).as(err.toString()).isZero();
        assertThat(run("update", "www_cert", pem + "\n")).as(err.toString()).isZero();
        run("read", "www_cert");
        assertThat(out.toString()).isEqualTo(pem + "\n" + System.lineSeparator());
        assertThat(run("write", "--nope", "x")).isEqualTo(2); // a misspelt option is no secret's name either
        assertThat(err.toString()).contains("'--nope' is not a valid secret name");
    }

    @Test
    void writeReadListUpdateRemove() {
        assertThat(run("write", "www_cert", "PEM DATA")).isZero();
        assertThat(run("write", "api_cert", "OTHER")).isZero();

        assertThat(run("read", "www_cert")).isZero();
        assertThat(out.toString()).isEqualTo("PEM DATA" + System.lineSeparator());

        assertThat(run("ls")).isZero();
        assertThat(out.toString().lines()).containsExactly("api_cert", "www_cert");

        assertThat(run("update", "www_cert", "RENEWED")).isZero();
        run("read", "www_cert");
        assertThat(out.toString().trim()).isEqualTo("RENEWED");

        assertThat(run("rm", "api_cert")).isZero();
        run("ls");
        assertThat(out.toString().lines()).containsExactly("www_cert");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void aValueOfDashIsReadFromStdin() throws Exception {
        String pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        VaultCommand.stdin = new ByteArrayInputStream(pem.getBytes(StandardCharsets.UTF_8));
        assertThat(run("write", "cert", "-")).isZero();

        run("read", "cert");
        assertThat(out.toString()).isEqualTo(pem.stripTrailing() + System.lineSeparator());
        assertThat(Files.readString(dir.resolve("vault.json"))).doesNotContain("MIIB");
    }

    @Test
    void mistakesAreOneLineAndANonZeroExit() {
        run("write", "a", "secret-one");

        assertThat(run("write", "a", "secret-two")).isNotZero();
        assertThat(err.toString()).isEqualTo("error: secret 'a' already exists; use 'vault update a' to change "
                + "its value" + System.lineSeparator());

        assertThat(run("update", "missing", "secret-three")).isNotZero();
        assertThat(err.toString().trim()).isEqualTo("error: secret 'missing' does not exist");
        assertThat(run("update", "--upsert", "missing", "secret-three")).isZero();

        assertThat(run("read", "nothing")).isNotZero();
        assertThat(err.toString().trim()).isEqualTo("error: secret 'nothing' does not exist");
        assertThat(run("rm", "nothing")).isNotZero();

        VaultCommand.stdin = new ByteArrayInputStream(new byte[0]);
        assertThat(run("write", "empty", "-")).isNotZero();
        assertThat(err.toString().trim()).isEqualTo("error: no value given for secret 'empty'");
    }

    @Test
    void aWrongKeyFileIsAClearError() throws Exception {
        run("write", "a", "secret-one");
        Files.writeString(dir.resolve("vault.key"), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");

        assertThat(run("read", "a")).isNotZero();
        assertThat(err.toString().trim()).startsWith("error: vault key does not match the one the vault was written with")
                .doesNotContain("secret-one");
        assertThat(err.toString().lines()).hasSize(1);
    }
}
