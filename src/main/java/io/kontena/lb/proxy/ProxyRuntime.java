package io.kontena.lb.proxy;

import io.kontena.lb.balance.Endpoint;
import io.kontena.lb.balance.EndpointState;
import io.kontena.lb.balance.UpstreamGroup;
import io.kontena.lb.config.HealthCheck;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.health.HealthChecker;
import io.kontena.lb.proxy.http.Http2Frontend;
import io.kontena.lb.proxy.http.HttpListenerContext;
import io.kontena.lb.proxy.http.HttpProxyHandler;
import io.kontena.lb.proxy.http.UpstreamPools;
import io.kontena.lb.proxy.tcp.TcpProxyHandler;
import io.kontena.lb.proxy.tls.AlpnHandoff;
import io.kontena.lb.proxy.tls.TlsProvider;
import io.kontena.lb.proxy.tls.TlsStore;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.ssl.ApplicationProtocolNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running data plane. {@link #apply} moves it to a new configuration in phases (upstream groups, then
 * the routing table, then listeners), reusing everything that did not change: an upstream that stays keeps
 * its counters and pooled connections, a listener that stays keeps its socket. Requests read the routing
 * table once, so each is served entirely by the configuration current when it arrived.
 */
public final class ProxyRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyRuntime.class);

    /**
     * @param bindAddress    the address every listener binds to
     * @param workers        event loops (threads) serving connections
     * @param accessLog      one line per request on stdout
     * @param drainTimeout   how long the work of a removed upstream or closed listener may take to finish
     * @param maxConnections client connections held at once, 0 for as many as the open-file limit allows; the
     *                       connections past it wait in the kernel's accept queue
     */
    public record Settings(String bindAddress, int workers, boolean accessLog, Duration drainTimeout,
                           int maxConnections) {
        public static Settings defaults() {
            return new Settings("0.0.0.0", Runtime.getRuntime().availableProcessors(), true, Duration.ofSeconds(30), 0);
        }

        public Settings withBindAddress(String address) {
            return new Settings(address, workers, accessLog, drainTimeout, maxConnections);
        }

        public Settings withAccessLog(boolean on) {
            return new Settings(bindAddress, workers, on, drainTimeout, maxConnections);
        }

        public Settings withDrainTimeout(Duration timeout) {
            return new Settings(bindAddress, workers, accessLog, timeout, maxConnections);
        }

        public Settings withMaxConnections(int max) {
            return new Settings(bindAddress, workers, accessLog, drainTimeout, max);
        }
    }

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(10);

    private final Settings settings;
    private final EventLoopGroup loops;
    private final HealthChecker health;
    private final UpstreamPools pools;
    private final UpstreamConnector connector;
    private final Listeners listeners;
    /**
     * Made when a configuration first uses TLS: loading the TLS libraries takes about 170 ms of a one-core start.
     * Read by the event loops when a TCP service that terminates TLS gets a connection.
     */
    private volatile TlsStore tls;
    private final Map<String, UpstreamGroup> httpGroups = new HashMap<>();
    private final Map<String, UpstreamGroup> tcpGroups = new HashMap<>();

    private volatile RoutingTable<HttpTarget> routes = RoutingTable.empty();
    /** New connections start with a PROXY protocol header (KONTENA_LB_ACCEPT_PROXY). */
    private volatile boolean acceptProxy;
    private volatile Map<ListenerKey, TcpTarget> tcpTargets = Map.of();
    private LbConfig applied = LbConfig.EMPTY;

    public ProxyRuntime(Settings settings) {
        this(settings, InheritedSockets.none());
    }

    /** @param inherited listening sockets handed over by a previous process, claimed by address */
    public ProxyRuntime(Settings settings, InheritedSockets inherited) {
        this.settings = settings;
        this.loops = Transport.eventLoops(settings.workers(), "kontena-lb");
        this.health = new HealthChecker(loops);
        this.pools = new UpstreamPools(loops);
        this.connector = new UpstreamConnector(loops);
        this.listeners = new Listeners(loops, settings.bindAddress(), settings.drainTimeout(), inherited,
                settings.maxConnections());
    }

    /**
     * Moves to a new configuration. New listeners are bound first, so a port that cannot be had changes nothing;
     * they accept only once the configuration they serve is published, and old ones close after that.
     *
     * @return the certificates that could not be served (the others are)
     * @throws PortsUnavailable when a new listener cannot be opened; nothing of the configuration was applied
     */
    public synchronized List<Problem> apply(LbConfig config) {
        // Loops rather than streams and lambdas here: this runs on the start path, where the JVM spins a class for
        // each lambda on its first use.
        List<Problem> problems = new ArrayList<>();
        // Certificates first, so that a new HTTPS listener never serves without them.
        boolean tcpTls = false;
        for (TcpService s : config.tcp()) {
            tcpTls |= s.terminateTls();
        }
        if (tcpTls) {
            tls(); // before the TCP targets that terminate TLS are published
        }
        if (config.https().isPresent()) {
            Https h = config.https().get();
            problems.addAll(tls().update(h.certificates(), h.settings(), tcpTls));
        }

        Map<ListenerKey, String> wanted = new HashMap<>();
        for (TcpService s : config.tcp()) {
            wanted.put(ListenerKey.tcp(s.port(), s.name()), s.name());
        }
        if (config.httpPort().isPresent()) {
            wanted.put(ListenerKey.http(config.httpPort().get()), "http");
        }
        if (config.https().isPresent()) {
            wanted.put(ListenerKey.https(config.https().get().port()), "https");
        }
        List<ListenerKey> opened = openNew(wanted);

        Map<String, HttpTarget> http = new HashMap<>();
        for (HttpService s : config.http()) {
            http.put(s.name(), new HttpTarget(s, group(httpGroups, s.name(), s.upstreams(), s.balance())));
        }
        Map<ListenerKey, TcpTarget> tcp = new HashMap<>();
        for (TcpService s : config.tcp()) {
            tcp.put(ListenerKey.tcp(s.port(), s.name()),
                    new TcpTarget(s, group(tcpGroups, s.name(), s.upstreams(), s.balance())));
        }
        retireGroups(httpGroups, http.keySet());
        Set<String> tcpNames = new HashSet<>();
        for (TcpTarget t : tcp.values()) {
            tcpNames.add(t.service().name());
        }
        retireGroups(tcpGroups, tcpNames);
        checkHealth(config);

        routes = RoutingTable.build(config.http(), s -> http.get(s.name()), config.frontend().answers());
        acceptProxy = config.frontend().acceptProxy();
        tcpTargets = Map.copyOf(tcp);

        // New listeners accept before old ones close, so a service that moves port is reachable throughout.
        for (ListenerKey key : opened) {
            listeners.accept(key);
        }
        for (ListenerKey key : listeners.keys()) {
            if (!wanted.containsKey(key)) {
                listeners.close(key);
            }
        }
        applied = config;
        return problems;
    }

    /** Binds the wanted listeners that are not open yet, all or none. */
    private List<ListenerKey> openNew(Map<ListenerKey, String> wanted) {
        List<ListenerKey> opened = new ArrayList<>();
        List<Problem> unavailable = new ArrayList<>();
        for (Map.Entry<ListenerKey, String> wish : wanted.entrySet()) {
            ListenerKey key = wish.getKey();
            if (!listeners.isOpen(key)) {
                try {
                    listeners.open(key, childInit(key));
                    opened.add(key);
                } catch (Listeners.ListenException e) {
                    unavailable.add(new Problem(wish.getValue(), "port", Integer.toString(key.port()), e.getMessage()));
                }
            }
        }
        if (!unavailable.isEmpty()) {
            for (ListenerKey key : opened) {
                listeners.close(key);
            }
            throw new PortsUnavailable(unavailable);
        }
        return opened;
    }

    /**
     * Listeners that could not be opened (a port in use, a port below 1024 without the right), each a problem of
     * the service that asked for it ({@code http} and {@code https} for those listeners).
     */
    public static final class PortsUnavailable extends RuntimeException {
        private final List<Problem> problems;

        PortsUnavailable(List<Problem> problems) {
            super(problems.stream().map(Problem::message).collect(java.util.stream.Collectors.joining("; ")));
            this.problems = List.copyOf(problems);
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    private TlsStore tls() {
        if (tls == null) {
            TlsStore store = new TlsStore();
            // an operator comparing handshake costs, or missing a cipher, needs to know which library serves
            log.info("{}", TlsProvider.describe());
            // certificates expire while nothing changes: remind the operator daily, as at each change
            loops.next().scheduleAtFixedRate(store::logExpiring, 1, 1, TimeUnit.DAYS);
            tls = store;
        }
        return tls;
    }

    /** What each service's upstreams are doing, by service. */
    public synchronized Map<String, List<EndpointState>> upstreamStates() {
        Map<String, List<EndpointState>> states = new TreeMap<>();
        for (Map<String, UpstreamGroup> groups : List.of(httpGroups, tcpGroups)) {
            groups.forEach((name, group) -> states.put(name, group.states()));
        }
        return states;
    }

    /** The upstreams of the services that ask for health checks, each with its service's check. */
    private void checkHealth(LbConfig config) {
        Map<Endpoint, HealthChecker.Target> wanted = new HashMap<>();
        for (HttpService s : config.http()) {
            checked(wanted, s.name(), s.healthCheck(), httpGroups);
        }
        for (TcpService s : config.tcp()) {
            checked(wanted, s.name(), s.healthCheck(), tcpGroups);
        }
        health.update(wanted);
    }

    private static void checked(Map<Endpoint, HealthChecker.Target> wanted, String service,
                                Optional<HealthCheck> check, Map<String, UpstreamGroup> groups) {
        if (check.isPresent()) {
            HealthChecker.Target target = new HealthChecker.Target(service, check.get());
            for (Endpoint e : groups.get(service).endpoints()) {
                wanted.put(e, target);
            }
        }
    }

    private UpstreamGroup group(Map<String, UpstreamGroup> groups, String name,
                                List<Upstream> upstreams, io.kontena.lb.config.Balance balance) {
        UpstreamGroup g = groups.get(name);
        if (g == null) {
            g = new UpstreamGroup(name, upstreams, balance);
            groups.put(name, g);
        } else {
            g.update(upstreams, balance).forEach(this::drain);
        }
        return g;
    }

    private void retireGroups(Map<String, UpstreamGroup> groups, Set<String> keep) {
        for (java.util.Iterator<Map.Entry<String, UpstreamGroup>> it = groups.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, UpstreamGroup> entry = it.next();
            if (!keep.contains(entry.getKey())) {
                for (Endpoint e : entry.getValue().retire()) {
                    drain(e);
                }
                it.remove();
            }
        }
    }

    /**
     * A removed endpoint takes no new work (its group no longer offers it) and its idle pooled connections close
     * now; exchanges, tunnels and relays still using it may finish until the drain timeout, then are closed.
     */
    private void drain(Endpoint e) {
        pools.closeIdle(e);
        int removal = e.removals();
        loops.schedule(() -> {
            if (e.isDraining() && e.removals() == removal) {
                connector.closeAll(e);
            }
        }, settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private ChannelInitializer<Channel> childInit(ListenerKey key) {
        Consumer<Channel> init = connectionInit(key);
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (acceptProxy) {
                    ProxyProtocol.expect(ch, REQUEST_TIMEOUT, init);
                } else {
                    init.accept(ch);
                }
            }
        };
    }

    /** Adds a new connection's handlers for its listener. */
    private Consumer<Channel> connectionInit(ListenerKey key) {
        if (key.protocol() == ListenerKey.Protocol.HTTPS) {
            HttpListenerContext lc = new HttpListenerContext(() -> routes, pools, connector, "https",
                    settings.accessLog(), REQUEST_TIMEOUT, KEEP_ALIVE_TIMEOUT);
            TlsStore store = tls();
            return ch -> {
                Transport.prepareTlsConnection(ch);
                ch.pipeline().addLast(store.newSniHandler(),
                        new AlpnHandoff((ctx, protocol) -> {
                            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                Http2Frontend.initPipeline(ctx.pipeline(), lc);
                            } else {
                                HttpProxyHandler.initPipeline(ctx.pipeline(), lc);
                            }
                        }));
                // Auto-read is off; with epoll the listener has asked for a read already, with io_uring and NIO
                // nothing has.
                ch.read();
            };
        }
        if (key.protocol() == ListenerKey.Protocol.HTTP) {
            HttpListenerContext lc = new HttpListenerContext(() -> routes, pools, connector, "http",
                    settings.accessLog(), REQUEST_TIMEOUT, KEEP_ALIVE_TIMEOUT);
            return ch -> HttpProxyHandler.initPipeline(ch.pipeline(), lc);
        }
        return ch -> {
            TcpTarget target = tcpTargets.get(key);
            TcpProxyHandler relay = new TcpProxyHandler(() -> tcpTargets.get(key), connector, settings.accessLog());
            if (target != null && target.service().terminateTls()) {
                // The relay starts once the handshake is done; bytes read meanwhile wait for it.
                Transport.prepareTlsConnection(ch);
                ch.pipeline().addLast(tls.newTcpSniHandler(),
                        new AlpnHandoff((ctx, protocol) -> ctx.pipeline().addLast(relay)));
                ch.read();
            } else {
                ch.pipeline().addLast(relay);
            }
        };
    }

    public synchronized LbConfig applied() {
        return applied;
    }

    /** The port HTTP is served on (the chosen one when the configuration asked for port 0), or -1. */
    public synchronized int httpPort() {
        return applied.httpPort().map(p -> listeners.boundPort(ListenerKey.http(p))).orElse(-1);
    }

    /** The port a TCP service is served on, or -1. */
    public synchronized int tcpPort(String service) {
        return applied.tcp().stream().filter(s -> s.name().equals(service)).findFirst()
                .map(s -> listeners.boundPort(ListenerKey.tcp(s.port(), s.name()))).orElse(-1);
    }

    /** The port HTTPS is served on (the chosen one when the configuration asked for port 0), or -1. */
    public synchronized int httpsPort() {
        return applied.https().map(h -> listeners.boundPort(ListenerKey.https(h.port()))).orElse(-1);
    }

    /** The bound port of each listener: "http", "https", and each TCP service by name. */
    public synchronized Map<String, Integer> boundPorts() {
        Map<String, Integer> ports = new java.util.LinkedHashMap<>();
        applied.httpPort().ifPresent(p -> ports.put("http", listeners.boundPort(ListenerKey.http(p))));
        applied.https().ifPresent(h -> ports.put("https", listeners.boundPort(ListenerKey.https(h.port()))));
        applied.tcp().forEach(s -> ports.put(s.name(), listeners.boundPort(ListenerKey.tcp(s.port(), s.name()))));
        return ports;
    }

    /**
     * Runs {@code use} with the file descriptors of the listening sockets, none of which closes meanwhile: a
     * hand-over sends them to a new process.
     */
    public synchronized void withListeningSockets(Consumer<List<FileDescriptor>> use) {
        use.accept(listeners.sockets());
    }

    /** Closes the listeners; the connections they accepted drain. */
    public synchronized void stopAccepting() {
        listeners.closeAll();
    }

    /**
     * Stops accepting, lets open connections finish for up to the drain timeout, then closes what is left.
     */
    public void drainAndClose() {
        stopAccepting();
        long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
        while (openConnections() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20); // waiting on the clients, not on a result of ours
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
    }

    /** The event loops serving connections (tests hold them busy to line events up). */
    EventLoopGroup eventLoops() {
        return loops;
    }

    /** The most client connections held at once: {@link Settings#maxConnections}, or what the files allow. */
    public int maxConnections() {
        return listeners.maxConnections();
    }

    /** Client connections currently open, including those of closed listeners that still drain. */
    public synchronized int openConnections() {
        return listeners.connectionCount();
    }

    @Override
    public synchronized void close() {
        health.close();
        listeners.closeAll();
        int left = listeners.connectionCount();
        if (left > 0) {
            log.warn("closing {} connection(s) still open", left);
        }
        listeners.closeConnections();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        log.debug("stopped");
    }
}
