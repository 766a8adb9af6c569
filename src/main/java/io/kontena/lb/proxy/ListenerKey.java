package io.kontena.lb.proxy;

/**
 * Identifies a listening socket across configuration changes: the same key keeps the same socket, so a
 * service that stays on its port never stops accepting.
 *
 * @param service for port 0 (any free port) the service it is for, else empty: a fixed port is its own identity
 */
public record ListenerKey(Protocol protocol, int port, String service) {
    public enum Protocol { HTTP, HTTPS, TCP }

    public static ListenerKey http(int port) {
        return new ListenerKey(Protocol.HTTP, port, port == 0 ? "http" : "");
    }

    public static ListenerKey https(int port) {
        return new ListenerKey(Protocol.HTTPS, port, port == 0 ? "https" : "");
    }

    public static ListenerKey tcp(int port, String service) {
        return new ListenerKey(Protocol.TCP, port, port == 0 ? service : "");
    }

    // equals and hashCode written out: a record's own are bootstrapped through method handles on first use, which
    // costs a start-up a few ms per record type (see LbConfig)
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof ListenerKey k && port == k.port && protocol == k.protocol
                && service.equals(k.service);
    }

    @Override
    public int hashCode() {
        return (31 * protocol.hashCode() + port) * 31 + service.hashCode();
    }

    @Override
    public String toString() {
        return protocol.name().toLowerCase() + ":" + port + (service.isEmpty() ? "" : "(" + service + ")");
    }
}
