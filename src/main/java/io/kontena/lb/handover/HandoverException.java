package io.kontena.lb.handover;

/** A hand-over that cannot happen, with what was wrong and what to do instead; the running process is untouched. */
public final class HandoverException extends RuntimeException {
    public HandoverException(String message) {
        super(message);
    }

    public HandoverException(String message, Throwable cause) {
        super(message, cause);
    }
}
