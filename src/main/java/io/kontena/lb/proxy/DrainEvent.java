package io.kontena.lb.proxy;

/**
 * Fired on a client connection whose listener stopped accepting (a removed service, a moved port, a shutdown or a
 * hand-over to a new process): the connection should finish what it is doing and end. HTTP answers its current or
 * next request with {@code Connection: close}; byte relays carry on. Whatever is still open when the drain timeout
 * passes is closed.
 */
public final class DrainEvent {
    public static final DrainEvent INSTANCE = new DrainEvent();

    private DrainEvent() {
    }

    @Override
    public String toString() {
        return "DrainEvent";
    }
}
