package io.kontena.lb.kontena;

/**
 * A configuration that cannot be used at all (as opposed to a {@link io.kontena.lb.config.Problem}, which rejects
 * one service and leaves the rest running). The message is one line meant for the operator.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
