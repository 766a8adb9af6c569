package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.TestCertificates;
import io.kontena.lb.testing.TestCertificates.Issued;
import io.kontena.lb.testing.TestCertificates.KeyForm;
import io.kontena.lb.testing.TestCertificates.KeyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped jar holds only the BouncyCastle packages listed in pom.xml, while the tests run against BouncyCastle's
 * whole jars: so a process reads certificate bundles of each kind, good and bad, and every BouncyCastle package it
 * loads must be one the jar ships.
 */
class ShippedBouncyCastleTest {
    private static final Pattern INCLUDE = Pattern.compile("<include>\\*\\*/(org/bouncycastle/[a-z0-9/]+)/\\*</include>");
    private static final Pattern LOADED = Pattern.compile("\\[class,load\\] (org\\.bouncycastle\\.[\\w.]+)\\.\\w+[ $]");

    @Test
    void everyBouncyCastlePackageThatReadingCertificatesLoadsIsShipped(@TempDir Path dir) throws Exception {
        Issued rsa = TestCertificates.cert("rsa.test").key(KeyType.RSA).build();
        Issued ec = TestCertificates.cert("ec.test").key(KeyType.EC).build();
        Issued ca = TestCertificates.cert("ca.test").key(KeyType.EC).ca().build();
        Issued chained = TestCertificates.cert("chained.test").key(TestCertificates.newKey(KeyType.RSA))
                .issuedBy(ca).build();
        String bundles = rsa.bundle(KeyForm.TRADITIONAL) + ec.bundle(KeyForm.TRADITIONAL) + rsa.bundle(KeyForm.PKCS8)
                + ec.bundle(KeyForm.PKCS8) + chained.certificatePem() + ca.certificatePem()
                + chained.keyPem(KeyForm.PKCS8)
                + ec.certificatePem() + rsa.keyPem(KeyForm.PKCS8); // a key that is not the certificate's
        Path stack = dir.resolve("kontena.yml");
        Files.writeString(stack, """
                services:
                  lb:
                    image: kontena/lb
                    environment:
                      SSL_CERTS: |
                %s
                """.formatted(bundles.lines().map(l -> "        " + l).collect(Collectors.joining("\n"))));

        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-verbose:class", "-cp", LbProcess.shippedClassPath(), "io.kontena.lb.cli.Main",
                "validate", "--stack", stack.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(output).contains("rsa.test", "ec.test", "chained.test", "does not match");

        Set<String> loaded = new TreeSet<>();
        for (Matcher m = LOADED.matcher(output); m.find(); ) {
            loaded.add(m.group(1));
        }
        Set<String> shipped = new TreeSet<>();
        for (Matcher m = INCLUDE.matcher(Files.readString(Path.of("pom.xml"))); m.find(); ) {
            shipped.add(m.group(1).replace('/', '.'));
        }
        assertThat(loaded).as("BouncyCastle packages loaded: list each in pom.xml's shade filter").isNotEmpty();
        assertThat(shipped).as("the packages pom.xml ships").containsAll(loaded);
    }
}
