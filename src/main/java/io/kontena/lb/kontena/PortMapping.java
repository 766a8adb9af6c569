package io.kontena.lb.kontena;

import java.util.Locale;
import java.util.Optional;

/**
 * A {@code ports:} entry: {@code CONTAINER}, {@code HOST:CONTAINER} or {@code IP:HOST:CONTAINER}, with an
 * optional {@code /tcp} or {@code /udp} suffix. IPv6 addresses are written in brackets.
 *
 * @param ip       the host address to publish on, when given (without brackets)
 * @param hostPort the published port, when given; 0 means any free port
 */
public record PortMapping(Optional<String> ip, Optional<Integer> hostPort, int containerPort, Protocol protocol) {
    public enum Protocol { TCP, UDP }

    private static final String FORMS = "expected CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER with an optional "
            + "/tcp or /udp, for example 8080:80";

    /** The port the entry listens on: the host port, or the container port itself when none is given. */
    public int listenPort() {
        return hostPort.orElse(containerPort);
    }

    /** @throws IllegalArgumentException saying what is wrong and what a port entry looks like */
    public static PortMapping parse(String text) {
        String rest = text.trim();
        Protocol protocol = Protocol.TCP;
        int slash = rest.lastIndexOf('/');
        if (slash >= 0) {
            String suffix = rest.substring(slash + 1).toLowerCase(Locale.ROOT);
            if (!suffix.equals("tcp") && !suffix.equals("udp")) {
                throw new IllegalArgumentException("unknown protocol '" + rest.substring(slash + 1) + "'; " + FORMS);
            }
            protocol = suffix.equals("udp") ? Protocol.UDP : Protocol.TCP;
            rest = rest.substring(0, slash);
        }
        Optional<String> ip = Optional.empty();
        if (rest.startsWith("[")) {
            int close = rest.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException(FORMS);
            }
            ip = Optional.of(rest.substring(1, close));
            rest = rest.substring(close + 2);
            if (!rest.contains(":")) {
                throw new IllegalArgumentException("an address needs both ports; " + FORMS);
            }
        }
        String[] parts = rest.split(":", -1);
        if (parts.length > 3 || parts.length == 3 && ip.isPresent()) {
            throw new IllegalArgumentException(FORMS + " (IPv6 addresses go in brackets: [::1]:8080:80)");
        }
        if (parts.length == 3) {
            ip = Optional.of(parts[0]);
        }
        if (ip.isPresent() && ip.get().isEmpty()) {
            throw new IllegalArgumentException("empty address; " + FORMS);
        }
        int container = port(parts[parts.length - 1], 1);
        Optional<Integer> host = parts.length >= 2 ? Optional.of(port(parts[parts.length - 2], 0)) : Optional.empty();
        return new PortMapping(ip, host, container, protocol);
    }

    private static int port(String text, int min) {
        if (text.contains("-")) {
            throw new IllegalArgumentException("port ranges such as '" + text + "' are not supported; " + FORMS);
        }
        try {
            return Ports.parse(text, min);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "; " + FORMS);
        }
    }

    @Override
    public String toString() {
        String address = ip.map(a -> (a.contains(":") ? "[" + a + "]" : a) + ":").orElse("");
        return address + hostPort.map(p -> p + ":").orElse("") + containerPort
                + (protocol == Protocol.UDP ? "/udp" : "");
    }
}
