package io.kontena.lb.proxy.tls;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * OpenSSL's own client, {@code openssl s_client}, against a {@link TlsTestServer}: it shows what the JDK's client
 * does not let a test choose or see (the signature scheme, resumption by a TLS 1.3 ticket).
 */
final class OpensslClient {
    private OpensslClient() {
    }

    /**
     * One exchange: a line sent, the server's answer for {@code sni} awaited, then s_client's input ended (a TLS 1.3
     * ticket has come by then). Skips the test where the openssl command is missing.
     *
     * @return all that s_client printed
     */
    static String exchange(int port, String sni, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-servername", sni));
        command.addAll(List.of(options));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeThat(e).as("the openssl command").isNull();
            throw e;
        }
        try {
            p.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().flush();
            StringBuilder out = new StringBuilder();
            BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (String line; (line = reader.readLine()) != null; ) {
                out.append(line).append('\n');
                if (line.startsWith("http/1.1 " + sni)) {
                    p.getOutputStream().close();
                    out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
                    return out.toString();
                }
                assertThat(System.nanoTime()).as("s_client output so far:%n%s", out).isLessThan(deadline);
            }
            throw new AssertionError("s_client ended without the server's answer; its output:\n" + out);
        } finally {
            p.destroyForcibly();
        }
    }
}
