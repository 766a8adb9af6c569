package io.kontena.lb.testing;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.Frontend;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Timeouts;
import io.kontena.lb.config.TlsSettings;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.kontena.CertificateBundles;
import io.kontena.lb.proxy.ProxyRuntime;
import io.kontena.lb.proxy.Transport;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A running load balancer on ephemeral loopback ports with real upstreams, for end-to-end tests.
 * Register with {@code @RegisterExtension}; everything started is stopped after each test.
 */
public final class ProxyFixture implements AfterEachCallback {
    private EventLoopGroup upstreamLoops;
    private ProxyRuntime runtime;
    private Duration drainTimeout = ProxyRuntime.Settings.defaults().drainTimeout();
    private boolean accessLog;
    private int maxConnections;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    public WhoAmI whoami(String name) {
        return whoami(name, "127.0.0.1");
    }

    /** A whoami upstream on another loopback address (127.0.0.2, ...). */
    public WhoAmI whoami(String name, String host) {
        if (upstreamLoops == null) {
            upstreamLoops = Transport.eventLoops(1, "upstreams");
        }
        WhoAmI w = WhoAmI.start(name, host, 0, upstreamLoops);
        closeables.add(w);
        return w;
    }

    public <T extends AutoCloseable> T closeAfter(T closeable) {
        closeables.add(closeable);
        return closeable;
    }

    /** Sets the drain timeout of the runtime; call before it starts. */
    public ProxyFixture drainTimeout(Duration timeout) {
        if (runtime != null) {
            throw new IllegalStateException("the runtime has started already");
        }
        drainTimeout = timeout;
        return this;
    }

    /** Sets the most client connections the runtime holds at once; call before it starts. */
    public ProxyFixture maxConnections(int max) {
        if (runtime != null) {
            throw new IllegalStateException("the runtime has started already");
        }
        maxConnections = max;
        return this;
    }

    /** Writes the access log (to the {@code access} logger, off in the tests' logging setup); call before it starts. */
    public ProxyFixture accessLog() {
        if (runtime != null) {
            throw new IllegalStateException("the runtime has started already");
        }
        accessLog = true;
        return this;
    }

    public ProxyRuntime runtime() {
        if (runtime == null) {
            runtime = new ProxyRuntime(ProxyRuntime.Settings.defaults().withBindAddress("127.0.0.1")
                    .withAccessLog(accessLog).withDrainTimeout(drainTimeout).withMaxConnections(maxConnections));
        }
        return runtime;
    }

    /** Applies a configuration and fails the test if a listener could not open. */
    public ProxyRuntime apply(LbConfig config) {
        List<Problem> problems = runtime().apply(config);
        if (!problems.isEmpty()) {
            throw new AssertionError("listeners failed: " + problems);
        }
        return runtime;
    }

    public ProxyRuntime serve(HttpService... services) {
        return apply(new LbConfig(Optional.of(0), List.of(services), List.of(), List.of()));
    }

    public ProxyRuntime serve(List<HttpService> http, List<TcpService> tcp) {
        return apply(new LbConfig(http.isEmpty() ? Optional.empty() : Optional.of(0), http, tcp, List.of()));
    }

    public int httpPort() {
        return runtime.httpPort();
    }

    /** HTTP and HTTPS with these certificates (bundles as a load balancer reads them, in this order). */
    public ProxyRuntime serveHttps(TlsSettings settings, List<TestCertificates.Issued> certificates,
                                   List<HttpService> http, List<TcpService> tcp) {
        return serveHttps(settings, certificates, http, tcp, Frontend.DEFAULT);
    }

    /** HTTP and HTTPS, with listeners that do {@code frontend}'s part first. */
    public ProxyRuntime serveHttps(TlsSettings settings, List<TestCertificates.Issued> certificates,
                                   List<HttpService> http, List<TcpService> tcp, Frontend frontend) {
        StringBuilder bundles = new StringBuilder();
        certificates.forEach(c -> bundles.append(c.bundle()));
        CertificateBundles.Result read = CertificateBundles.read("lb", Map.of(CertificateBundles.SSL_CERTS,
                bundles.toString()), Instant.now());
        if (!read.problems().isEmpty()) {
            throw new AssertionError("certificates rejected: " + read.problems());
        }
        return apply(new LbConfig(Optional.of(0), http, tcp, List.of(),
                Optional.of(new Https(0, read.certificates(), settings, read.warnings())), frontend));
    }

    public ProxyRuntime serveHttps(List<TestCertificates.Issued> certificates, HttpService... services) {
        return serveHttps(TlsSettings.DEFAULTS, certificates, List.of(services), List.of());
    }

    public int httpsPort() {
        return runtime.httpsPort();
    }

    public static Upstream at(WhoAmI w) {
        return new Upstream("127.0.0.1", w.port());
    }

    public static Upstream at(RawServer s) {
        return new Upstream("127.0.0.1", s.port());
    }

    public static HttpService http(String name, List<String> hosts, List<String> paths, WhoAmI... upstreams) {
        return http(name, Balance.ROUND_ROBIN, hosts, paths, upstreams);
    }

    public static HttpService http(String name, Balance balance, List<String> hosts, List<String> paths,
                                   WhoAmI... upstreams) {
        List<Upstream> ups = new ArrayList<>();
        for (WhoAmI w : upstreams) {
            ups.add(at(w));
        }
        return new HttpService(name, balance, hosts, paths.isEmpty() && hosts.isEmpty() ? List.of("/") : paths,
                false, false, ups, Timeouts.DEFAULTS, HeaderRules.NONE);
    }

    /** A service with every routing option spelled out. */
    public static HttpService http(String name, List<String> hosts, List<String> paths, boolean keepPath,
                                   boolean defaultService, List<Upstream> upstreams) {
        return new HttpService(name, Balance.ROUND_ROBIN, hosts, paths, keepPath, defaultService, upstreams,
                Timeouts.DEFAULTS, HeaderRules.NONE);
    }

    public static HttpService http(String name, Balance balance, List<Upstream> upstreams) {
        return new HttpService(name, balance, List.of(), List.of("/"), false, false, upstreams,
                Timeouts.DEFAULTS.withConnect(Duration.ofSeconds(2)), HeaderRules.NONE);
    }

    public static TcpService tcp(String name, Balance balance, List<Upstream> upstreams) {
        return new TcpService(name, balance, 0, upstreams, Timeouts.DEFAULTS.withConnect(Duration.ofSeconds(2)));
    }

    /** A TCP service that terminates TLS with the load balancer's certificates. */
    public static TcpService tcpTls(String name, List<Upstream> upstreams) {
        return new TcpService(name, Balance.ROUND_ROBIN, 0, upstreams,
                Timeouts.DEFAULTS.withConnect(Duration.ofSeconds(2)), true);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (runtime != null) {
            runtime.close();
            runtime = null;
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        closeables.clear();
        if (upstreamLoops != null) {
            upstreamLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            upstreamLoops = null;
        }
    }
}
