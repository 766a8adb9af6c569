package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.testing.LbProcess;
import io.kontena.lb.testing.RawHttp;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command: {@code demo} brings up its own upstreams and balances them at once. */
class DemoTest {
    @TempDir
    Path dir;

    @Test
    void theExampleStackIsValid() {
        CliTest.Result r = CliTest.cli("validate", "--stack", "examples/kontena.yml");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("http  port 8080").contains("tcp   port 5432");
    }

    @Test
    void aDemoUpstreamPortInUseIsOneClearLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Path stack = dir.resolve("kontena.yml");
            Files.writeString(stack, """
                    services:
                      lb:
                        image: kontena/lb
                        ports: ["0:80"]
                      web:
                        image: nginx
                        links: [lb]
                        upstreams: ["127.0.0.1:%d"]
                    """.formatted(taken.getLocalPort()));
            CliTest.Result r = CliTest.cli("demo", "--stack", stack.toString(), "--bind", "127.0.0.1");
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err().strip()).doesNotContain("\n")
                    .contains("cannot start the whoami instance web-1 on 127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void demoServesWhoamiInstancesForEveryLoopbackUpstream() throws Exception {
        int port = LbProcess.freePort();
        int tcpPort = LbProcess.freePort();
        List<Integer> upstreams = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            upstreams.add(LbProcess.freePort());
        }
        Path stack = dir.resolve("kontena.yml");
        Files.writeString(stack, """
                services:
                  lb:
                    image: kontena/lb
                    ports: ["%d:80", "%d:5000"]
                  web:
                    image: nginx
                    environment: [KONTENA_LB_VIRTUAL_HOSTS=www.example.com]
                    links: [lb]
                    upstreams: ["127.0.0.1:%d", "localhost:%d"]
                  api:
                    image: api
                    environment: [KONTENA_LB_VIRTUAL_PATH=/api]
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                  db:
                    image: db
                    environment: [KONTENA_LB_MODE=tcp]
                    links: [lb]
                    upstreams: ["127.0.0.1:%d"]
                """.formatted(port, tcpPort, upstreams.get(0), upstreams.get(1), upstreams.get(2), upstreams.get(3)));
        try (LbProcess demo = LbProcess.demo(stack, List.of("-Xmx128m"))) {
            demo.awaitListening(port);
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                seen.add(RawHttp.get(port, "www.example.com", "/").instance());
            }
            assertThat(seen).containsExactly("web-1", "web-2", "web-1", "web-2");
            RawHttp.Response api = RawHttp.get(port, "localhost", "/api/users?id=7");
            assertThat(api.instance()).isEqualTo("api-1");
            assertThat(api.echoed("request")).isEqualTo("GET /users?id=7 HTTP/1.1");
            assertThat(RawHttp.get(port, "localhost", "/elsewhere").status()).isEqualTo(503);
            assertThat(RawHttp.get(tcpPort, "localhost", "/").instance()).isEqualTo("db-1");
        }
    }
}
