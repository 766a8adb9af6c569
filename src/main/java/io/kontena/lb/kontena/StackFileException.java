package io.kontena.lb.kontena;

import org.yaml.snakeyaml.error.Mark;

/** A stack file that cannot be read: bad YAML, or a field of the wrong shape. */
public final class StackFileException extends ConfigException {
    public StackFileException(String message) {
        super(message);
    }

    public StackFileException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "origin:line:column: message", with the position left out when SnakeYAML gave none. */
    static StackFileException at(String origin, Mark mark, String message) {
        String where = mark == null ? origin : origin + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1);
        return new StackFileException(where + ": " + message);
    }
}
