package io.kontena.lb.kontena;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where the load balancer listens, as if it were the container: a container port listens on the host port the LB
 * service's {@code ports:} publish it on, or on itself when no entry publishes it. Host port 0 means any free port.
 */
final class ListenPorts {
    static final String FIELD = "ports";
    private final Map<Integer, PortMapping> byContainerPort = new LinkedHashMap<>();

    private ListenPorts() {
    }

    /** Reads the LB service's {@code ports:}; an entry that cannot be honoured is a problem and is left out. */
    static ListenPorts of(StackService lb, Problems problems) {
        ListenPorts ports = new ListenPorts();
        Map<Integer, PortMapping> byHostPort = new LinkedHashMap<>();
        for (PortMapping entry : lb.ports()) {
            Optional<String> wrong = Optional.empty();
            if (entry.protocol() == PortMapping.Protocol.UDP) {
                wrong = Optional.of("UDP is not supported: the load balancer serves HTTP and TCP; remove the entry");
            } else if (entry.ip().filter(ip -> !ip.equals("0.0.0.0") && !ip.equals("::")).isPresent()) {
                wrong = Optional.of("publishing on one address is not supported; remove the address and choose "
                        + "the address the load balancer listens on when starting it");
            } else if (ports.byContainerPort.containsKey(entry.containerPort())) {
                wrong = Optional.of("container port " + entry.containerPort() + " is already published by "
                        + ports.byContainerPort.get(entry.containerPort()) + "; publish each container port once");
            } else if (entry.listenPort() != 0 && byHostPort.containsKey(entry.listenPort())) {
                wrong = Optional.of("host port " + entry.listenPort() + " is already used by "
                        + byHostPort.get(entry.listenPort()) + "; publish each host port once");
            }
            if (wrong.isPresent()) {
                problems.add(lb.name(), FIELD, entry.toString(), wrong.get());
                continue;
            }
            ports.byContainerPort.put(entry.containerPort(), entry);
            byHostPort.put(entry.listenPort(), entry);
        }
        return ports;
    }

    int listenPort(int containerPort) {
        PortMapping entry = byContainerPort.get(containerPort);
        return entry == null ? containerPort : entry.listenPort();
    }

    boolean publishes(int containerPort) {
        return byContainerPort.containsKey(containerPort);
    }

    /** "port 5000", or "port 5000 (published on 8080 by ports: 8080:5000)". */
    String describe(int containerPort) {
        PortMapping entry = byContainerPort.get(containerPort);
        return entry == null || entry.listenPort() == containerPort
                ? "port " + containerPort
                : "port " + containerPort + " (published on " + entry.listenPort() + " by ports: " + entry + ")";
    }
}
