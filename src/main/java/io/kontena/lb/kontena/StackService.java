package io.kontena.lb.kontena;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One service of a stack file, with the fields the load balancer cares about.
 *
 * @param image       "" when the file gives none
 * @param environment in file order; a bare {@code KEY} has the value ""
 * @param upstreams   where the instances run, as written ("host", "host:port" or "[v6]:port"); checked later,
 *                    so that a bad entry rejects only this service
 * @param healthCheck its {@code health_check:} fields as written (protocol, uri, port, interval, timeout), checked
 *                    later as the upstreams are; empty when it has none
 */
public record StackService(
        String name,
        String image,
        Map<String, String> environment,
        List<Link> links,
        List<PortMapping> ports,
        List<String> upstreams,
        List<SecretRef> secrets,
        Map<String, String> healthCheck) {

    public StackService {
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        links = List.copyOf(links);
        ports = List.copyOf(ports);
        upstreams = List.copyOf(upstreams);
        secrets = List.copyOf(secrets);
        healthCheck = Collections.unmodifiableMap(new LinkedHashMap<>(healthCheck));
    }
}
