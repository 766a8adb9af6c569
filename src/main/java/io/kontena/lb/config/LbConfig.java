package io.kontena.lb.config;

import java.util.List;
import java.util.Optional;

/**
 * Everything one load balancer serves: an immutable snapshot. Two snapshots that are equal need no change.
 *
 * @param httpPort  the port plain HTTP is served on; empty when nothing needs it
 * @param http      services routed by host and path, in a stable order
 * @param tcp       services with a port of their own
 * @param problems  what was rejected while this snapshot was made, for the operator
 * @param https     HTTPS, when at least one valid certificate is given
 * @param frontend  what its listeners do before any service: answers of its own, the PROXY protocol
 */
public record LbConfig(Optional<Integer> httpPort, List<HttpService> http, List<TcpService> tcp, List<Problem> problems,
                       Optional<Https> https, Frontend frontend) {
    public static final LbConfig EMPTY = new LbConfig(Optional.empty(), List.of(), List.of(), List.of());

    /** A configuration without HTTPS. */
    public LbConfig(Optional<Integer> httpPort, List<HttpService> http, List<TcpService> tcp, List<Problem> problems) {
        this(httpPort, http, tcp, problems, Optional.empty());
    }

    /** A configuration whose listeners do nothing before the services. */
    public LbConfig(Optional<Integer> httpPort, List<HttpService> http, List<TcpService> tcp, List<Problem> problems,
                    Optional<Https> https) {
        this(httpPort, http, tcp, problems, https, Frontend.DEFAULT);
    }

    public LbConfig {
        http = List.copyOf(http);
        tcp = List.copyOf(tcp);
        problems = List.copyOf(problems);
    }

    /*
     * equals and hashCode written out, as the record's own would behave: those are made on first use by
     * java.lang.runtime.ObjectMethods out of method handles, one per component, which took some 15 ms of a
     * one-core start for the first comparison of a configuration with the empty one.
     */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof LbConfig c && httpPort.equals(c.httpPort) && http.equals(c.http)
                && tcp.equals(c.tcp) && problems.equals(c.problems) && https.equals(c.https) && frontend.equals(c.frontend);
    }

    @Override
    public int hashCode() {
        return ((((httpPort.hashCode() * 31 + http.hashCode()) * 31 + tcp.hashCode()) * 31 + problems.hashCode()) * 31
                + https.hashCode()) * 31 + frontend.hashCode();
    }

    /** This configuration with these problems instead of its own. */
    public LbConfig withProblems(List<Problem> problems) {
        return new LbConfig(httpPort, http, tcp, problems, https, frontend);
    }

    public boolean isValid() {
        return problems.isEmpty();
    }
}
