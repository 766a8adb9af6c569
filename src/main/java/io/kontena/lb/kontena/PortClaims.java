package io.kontena.lb.kontena;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which listener owns which port. Ports are compared both as container ports (the LB's own view) and as the host
 * ports they are published on, since two container ports published on one host port clash as well.
 */
final class PortClaims {
    static final int HTTP = 80;
    static final int HTTPS = 443;

    private final ListenPorts ports;
    private final Map<Integer, String> ownerByContainerPort = new HashMap<>();
    private final Map<Integer, Integer> containerPortByHostPort = new HashMap<>();

    PortClaims(ListenPorts ports) {
        this.ports = ports;
        // The HTTPS port is kept even without certificates, so that adding the first one never breaks a config.
        claim(HTTP, "the HTTP port");
        claim(HTTPS, "the HTTPS port");
    }

    /** @return why the port cannot be had, or empty when it is free and now belongs to owner */
    Optional<String> claim(int containerPort, String owner) {
        String taken = ownerByContainerPort.get(containerPort);
        if (taken != null) {
            return Optional.of("port " + containerPort + " is already " + taken);
        }
        int hostPort = ports.listenPort(containerPort);
        Integer other = hostPort == 0 ? null : containerPortByHostPort.get(hostPort);
        if (other != null) {
            return Optional.of(ports.describe(containerPort) + " listens on host port " + hostPort + ", which "
                    + ports.describe(other) + " already uses as " + ownerByContainerPort.get(other));
        }
        ownerByContainerPort.put(containerPort, owner);
        if (hostPort != 0) {
            containerPortByHostPort.put(hostPort, containerPort);
        }
        return Optional.empty();
    }
}
