package io.kontena.lb.kontena;

import io.kontena.lb.config.Frontend;
import io.kontena.lb.config.HealthCheck;
import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.Https;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import java.time.Instant;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Upstream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a stack into the configuration of one of its load balancer services, with Kontena's semantics.
 * Bad input never throws: each bad thing becomes a problem of its service, and a service with any problem is left
 * out while the rest stays. Services come out sorted by name, problems in a stable order.
 */
public final class Translator {
    static final String ROLE_VARIABLE = "KONTENA_SERVICE_ROLE";
    private static final String LB_RULE = "a service whose image contains kontena/lb or whose environment has "
            + ROLE_VARIABLE + "=lb";

    private final Stack stack;
    private final StackService lb;
    private final List<String> lbNames;
    /** In file order; a set, since every linked name is looked up in it (10,000 services are 10,000 lookups). */
    private final Set<String> serviceNames;
    private final Problems problems = new Problems();
    private final ListenPorts ports;
    private final PortClaims claims;
    private final List<HttpService> http = new ArrayList<>();
    private final List<TcpService> tcp = new ArrayList<>();
    private Optional<String> defaultService = Optional.empty();
    private final CertificateBundles.Result certificates;
    /** The load balancer's own custom settings: what every service starts from. */
    private final CustomSettings.Result defaults;
    /** The instances register themselves (etcd): a service may have none for a while, between deploys. */
    private final boolean upstreamsRegistered;

    private Translator(Stack stack, StackService lb, List<String> lbNames, boolean upstreamsRegistered) {
        this.stack = stack;
        this.upstreamsRegistered = upstreamsRegistered;
        this.lb = lb;
        this.lbNames = lbNames;
        this.serviceNames = new LinkedHashSet<>();
        for (StackService service : stack.services()) {
            serviceNames.add(service.name());
        }
        this.ports = ListenPorts.of(lb, problems);
        this.claims = new PortClaims(ports);
        this.certificates = CertificateBundles.read(lb.name(), lb.environment(), Instant.now());
        this.defaults = CustomSettings.defaults(lb, problems);
    }

    /** Whether the service is a load balancer: its image contains kontena/lb or it has KONTENA_SERVICE_ROLE=lb. */
    public static boolean isLoadBalancer(StackService service) {
        return service.image().contains("kontena/lb")
                || "lb".equals(service.environment().getOrDefault(ROLE_VARIABLE, "").trim());
    }

    /** The names of the stack's load balancer services, in file order. */
    public static List<String> loadBalancers(Stack stack) {
        List<String> names = new ArrayList<>();
        for (StackService service : stack.services()) {
            if (isLoadBalancer(service)) {
                names.add(service.name());
            }
        }
        return List.copyOf(names);
    }

    /**
     * @param lbName the load balancer service to configure ("name" or "stack/name"); may be left out when the
     *               stack has exactly one
     * @throws ConfigException when no load balancer service can be chosen; the message lists those found
     */
    public static LbConfig translate(Stack stack, Optional<String> lbName) {
        return translate(stack, lbName, false);
    }

    /**
     * Like {@link #translate}, for a stack whose services' instances register themselves as they come and go (as
     * under etcd): a TCP service without any is served too, closing connections until one registers.
     */
    public static LbConfig translateRegistered(Stack stack, Optional<String> lbName) {
        return translate(stack, lbName, true);
    }

    private static LbConfig translate(Stack stack, Optional<String> lbName, boolean upstreamsRegistered) {
        List<String> lbNames = loadBalancers(stack);
        String chosen = choose(stack, lbNames, lbName);
        return new Translator(stack, stack.service(chosen).orElseThrow(), lbNames, upstreamsRegistered).translate();
    }

    private static String choose(Stack stack, List<String> lbNames, Optional<String> lbName) {
        String found = lbNames.isEmpty()
                ? "the stack has no load balancer service (" + LB_RULE + ")"
                : "load balancer services: " + String.join(", ", lbNames);
        if (lbName.isEmpty()) {
            if (lbNames.size() == 1) {
                return lbNames.get(0);
            }
            throw new ConfigException(lbNames.isEmpty() ? found
                    : "the stack has several load balancer services; name the one to use (" + found + ")");
        }
        String name = lbName.get();
        Optional<String> prefix = stack.linkName().map(s -> s + "/");
        if (prefix.isPresent() && name.startsWith(prefix.get())) {
            name = name.substring(prefix.get().length());
        }
        if (lbNames.contains(name)) {
            return name;
        }
        throw new ConfigException((stack.service(name).isPresent()
                ? "service '" + name + "' is not a load balancer (" + LB_RULE + ")"
                : "no service '" + lbName.get() + "' in the stack") + "; " + found);
    }

    private LbConfig translate() {
        // loops rather than streams on the start path: each lambda is a class the JVM spins up on first use (the
        // comparator is the one kept, for clarity)
        List<StackService> byName = new ArrayList<>(stack.services());
        byName.sort((a, b) -> a.name().compareTo(b.name()));
        for (StackService service : byName) {
            if (isLoadBalancer(service)) {
                continue;
            }
            Optional<String> firstLb = Optional.empty();
            // A link into another stack may well be to that stack's load balancer, which is not this one's business.
            boolean linksElsewhere = false;
            for (Link link : service.links()) {
                if (!mayBeInThisStack(link)) {
                    linksElsewhere = true;
                } else if (firstLb.isEmpty() && lbNames.contains(link.service())) {
                    firstLb = Optional.of(link.service());
                }
            }
            boolean mentionsLb = ServiceVariables.mentionsLb(service.environment());
            if (firstLb.isEmpty() && mentionsLb && !linksElsewhere) {
                checkLinks(service);
                problems.add(service.name(), "links", linksAsGiven(service), "the service sets KONTENA_LB_* "
                        + "variables but links to no load balancer, so they do nothing" + notLoadBalancers(service)
                        + "; add one of these to its links: " + String.join(", ", lbNames));
            } else if (firstLb.equals(Optional.of(lb.name()))) {
                int before = problems.count();
                if (mentionsLb) {
                    checkLinks(service);
                }
                balanced(service, before);
            }
        }
        LoadBalancerVariables.check(lb, problems);
        Frontend frontend = new Frontend(LocalAnswers.read(lb, problems), LoadBalancerVariables.acceptsProxy(lb),
                LoadBalancerVariables.statsPassword(lb, problems));
        boolean httpNeeded = !http.isEmpty() || !frontend.answers().isEmpty() || ports.publishes(PortClaims.HTTP);
        for (Problem p : certificates.problems()) {
            problems.add(p.subject(), p.key(), p.value(), p.message());
        }
        Optional<Https> https = certificates.certificates().isEmpty() ? Optional.empty() : Optional.of(
                new Https(ports.listenPort(PortClaims.HTTPS), certificates.certificates(), certificates.settings(),
                        certificates.warnings()));
        return new LbConfig(httpNeeded ? Optional.of(ports.listenPort(PortClaims.HTTP)) : Optional.empty(),
                http, tcp, problems.list(), https, frontend);
    }

    private void balanced(StackService service, int problemsBefore) {
        String name = service.name();
        ServiceSettings settings = ServiceVariables.read(name, service.environment(), defaults, problems);
        List<Upstream> upstreams = upstreams(service,
                settings.internalPort() == 0 ? ServiceVariables.DEFAULT_INTERNAL_PORT : settings.internalPort());
        if (settings.isTcp()) {
            if (service.upstreams().isEmpty() && !upstreamsRegistered) {
                problems.add(name, "upstreams", "", "a TCP service needs at least one upstream; list where its "
                        + "instances run under upstreams:, for example - 10.0.0.5:3306");
            }
            if (settings.externalPort() != 0) {
                claimExternalPort(service, settings.externalPort());
            }
            if (settings.terminateTls() && certificates.certificates().isEmpty()) {
                problems.add(name, ServiceVariables.TLS, service.environment().get(ServiceVariables.TLS),
                        "the load balancer has no valid certificate to terminate TLS with; give the load balancer "
                                + "service " + CertificateBundles.SSL_CERTS + " or " + CertificateBundles.SSL_CERT_PREFIX
                                + "<name>, or relay TLS untouched with " + ServiceVariables.TLS + "="
                                + ServiceVariables.TLS_PASSTHROUGH);
            }
        }
        if (settings.isHttp() && settings.defaultService()) {
            claimDefault(service);
        }
        Optional<HealthCheck> healthCheck = HealthCheckSettings.read(name, service.healthCheck(), problems);
        if (problems.count() != problemsBefore) {
            return;
        }
        if (settings.isTcp()) {
            tcp.add(new TcpService(name, settings.balance(), ports.listenPort(settings.externalPort()),
                    upstreams, settings.timeouts(), settings.terminateTls(), healthCheck));
        } else {
            http.add(new HttpService(name, settings.balance(), settings.virtualHosts(), settings.virtualPaths(),
                    settings.keepVirtualPath(), settings.defaultService(), upstreams, settings.timeouts(),
                    settings.headers(), healthCheck, settings.basicAuth(), settings.stickyCookie()));
        }
    }

    private List<Upstream> upstreams(StackService service, int defaultPort) {
        List<Upstream> upstreams = new ArrayList<>();
        for (String entry : service.upstreams()) {
            try {
                upstreams.add(UpstreamAddress.parse(entry, defaultPort));
            } catch (IllegalArgumentException e) {
                problems.add(service.name(), "upstreams", entry, e.getMessage());
            }
        }
        return upstreams;
    }

    private void claimExternalPort(StackService service, int externalPort) {
        String given = service.environment().get(ServiceVariables.EXTERNAL_PORT);
        claims.claim(externalPort, "the port of TCP service '" + service.name() + "'").ifPresent(clash ->
                problems.add(service.name(), ServiceVariables.EXTERNAL_PORT, given == null ? "" : given,
                        (given == null ? "the default external port " + externalPort + ": " : "") + clash
                                + "; give each TCP service a port of its own with " + ServiceVariables.EXTERNAL_PORT));
    }

    private void claimDefault(StackService service) {
        if (defaultService.isEmpty()) {
            defaultService = Optional.of(service.name());
            return;
        }
        problems.add(service.name(), ServiceVariables.DEFAULT_SERVICE,
                service.environment().get(ServiceVariables.DEFAULT_SERVICE),
                "service '" + defaultService.get() + "' is already the default service; only one service can be");
    }

    /** Whether a link may name a service of this stack: it names no stack, or this one, or this one has no name. */
    private boolean mayBeInThisStack(Link link) {
        return link.stack().isEmpty() || stack.linkName().isEmpty() || link.stack().equals(stack.linkName());
    }

    /** "; 'db' is not a load balancer (...)" for the linked services of this stack that exist but are no LB. */
    private String notLoadBalancers(StackService service) {
        List<String> others = service.links().stream().map(Link::service)
                .filter(name -> stack.service(name).isPresent()).distinct().map(name -> "'" + name + "'").toList();
        if (others.isEmpty()) {
            return "";
        }
        return "; " + String.join(", ", others)
                + (others.size() == 1 ? " is not a load balancer" : " are not load balancers") + " (" + LB_RULE + ")";
    }

    /** Links within this stack must name one of its services; links into other stacks cannot be checked here. */
    private void checkLinks(StackService service) {
        for (Link link : service.links()) {
            boolean otherStack = link.stack().isPresent() && !link.stack().equals(stack.linkName());
            if (otherStack || serviceNames.contains(link.service())) {
                continue;
            }
            problems.add(service.name(), "links", link.toString(), "no service '" + link.service()
                    + "' in this stack" + Suggestions.closest(link.service(), serviceNames).map(n -> "; did you mean '"
                    + n + "'?").orElse("; its services are: " + String.join(", ", serviceNames)));
        }
    }

    private static String linksAsGiven(StackService service) {
        return service.links().stream().map(Link::toString).collect(Collectors.joining(", "));
    }
}
