package io.kontena.lb.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.proxy.InheritedSockets;
import io.kontena.lb.testing.ProxyFixture;
import io.kontena.lb.testing.RawHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statistics page of the admin API, as an operator opens it: behind user stats and STATS_PASSWORD, with each
 * service's upstreams and their state, in a real browser (Debian's Chromium, headless).
 */
class StatsPageTest {
    private static final String PASSWORD = "s3cret";
    /** A problem that quotes what a user wrote: the page shows it as text. */
    private static final Problem HOSTILE = new Problem("api", "KONTENA_LB_BALANCE", "<script>alert(1)</script>",
            "unknown balance; expected roundrobin, source or leastconn");

    @RegisterExtension
    final ProxyFixture lb = new ProxyFixture();

    @TempDir
    Path dir;

    private WhoAmI web;
    private int port;

    @BeforeEach
    void serve() {
        web = lb.whoami("web-1");
        lb.serve(new HttpService("web", Balance.ROUND_ROBIN, List.of("www.example.com"), List.of("/"), false, false,
                List.of(ProxyFixture.at(web)), Timeouts.DEFAULTS, HeaderRules.NONE, Optional.empty(),
                Optional.empty(), Optional.empty()));
        AdminServer admin = lb.closeAfter(AdminServer.start("127.0.0.1", 0,
                () -> ConfigView.of(7, lb.runtime().applied(), List.of(HOSTILE), lb.runtime().boundPorts(),
                        lb.runtime().upstreamStates(), lb.runtime().openConnections(), lb.runtime().maxConnections()),
                () -> "", () -> Optional.of(PASSWORD), InheritedSockets.none()));
        port = admin.port();
    }

    private static String get(String path, String authorization) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + (authorization == null ? ""
                : "Authorization: " + authorization + "\r\n") + "\r\n";
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theApiAndThePageAskForTheStatsUserButTheHealthCheckDoesNot() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            RawHttp.Response none = c.send(get("/", null)).read();
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.header("www-authenticate")).isEqualTo("Basic realm=\"kontena-lb\", charset=\"UTF-8\"");
            assertThat(c.send(get("/api/config", basic("stats", "wrong"))).read().status()).isEqualTo(401);
            assertThat(c.send(get("/metrics", basic("admin", PASSWORD))).read().status()).isEqualTo(401);
            assertThat(c.send(get("/api/health", null)).read().status()).isEqualTo(200);
            assertThat(c.send(get("/api/config", basic("stats", PASSWORD))).read().status()).isEqualTo(200);
            assertThat(c.send(get("/api/config?x", basic("stats", PASSWORD).replace("Basic", "basic"))).read()
                    .status()).as("the scheme in any case").isEqualTo(200);
            assertThat(c.send(get("/api/health/../config", null)).read().status()).isEqualTo(401);

            RawHttp.Response page = c.send(get("/", basic("stats", PASSWORD))).read();
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.header("content-type")).isEqualTo("text/html; charset=utf-8");
            assertThat(page.text()).contains("<td rowspan=\"1\" class=\"service\">web</td>",
                    "&lt;script&gt;alert(1)&lt;/script&gt;").doesNotContain("<script>");
        }
    }

    @Test
    void aBrowserShowsEachServicesUpstreamsWithTheirStateAndCounters() throws Exception {
        RawHttp.get(lb.httpPort(), "www.example.com", "/");
        RawHttp.get(lb.httpPort(), "www.example.com", "/");
        String dom;
        try (RawHttp idle = new RawHttp(lb.httpPort())) { // one client connection open meanwhile
            dom = browse("http://stats:" + PASSWORD + "@127.0.0.1:" + port + "/");
        }
        assertThat(dom).contains("<b id=\"generation\">7</b>",
                "client connections <b id=\"connections\">1</b> of at most " + lb.runtime().maxConnections(),
                "<td>127.0.0.1:" + web.port() + "</td><td class=\"up\">UP</td><td>0</td><td>2</td><td>0</td>",
                "www.example.com /",
                "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>");
        assertThat(dom).doesNotContain("<script>");
    }

    /** The page as headless Chromium renders it: the DOM after parsing, serialised. */
    private String browse(String url) throws Exception {
        List<String> command = new ArrayList<>(List.of(chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + dir.resolve("chromium-profile"), "--dump-dom", url));
        Path out = dir.resolve("dom.html");
        Path err = dir.resolve("chromium.log");
        Process browser = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!browser.waitFor(60, TimeUnit.SECONDS)) {
            browser.destroyForcibly();
            throw new AssertionError("Chromium did not finish within 60 s: " + Files.readString(err));
        }
        String dom = Files.readString(out);
        assertThat(dom).as("Chromium's page; its log: " + Files.readString(err)).contains("kontena-lb statistics");
        return dom;
    }

    /** Debian's Chromium ({@code .ci/run} installs it; the test fails rather than skips without it). */
    private static String chromium() {
        String given = System.getenv("CHROMIUM_BINARY");
        String binary = given != null ? given : "/usr/bin/chromium";
        if (!Files.isExecutable(Path.of(binary))) {
            throw new IllegalStateException(binary + " is missing: install Debian's chromium package "
                    + "(apt-get install -y chromium), as .ci/run does, or point $CHROMIUM_BINARY at a Chromium");
        }
        return binary;
    }
}
