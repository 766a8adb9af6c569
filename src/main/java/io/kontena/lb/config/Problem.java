package io.kontena.lb.config;

/**
 * Something wrong with the configuration as given, said so that a user can fix it.
 *
 * @param subject what it concerns: a service name, or the file or source as a whole
 * @param key     the variable, key or field that holds the bad value (may be empty)
 * @param value   the value as given (may be empty)
 * @param message what is wrong and what would be valid
 */
public record Problem(String subject, String key, String value, String message) {

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(subject);
        if (!key.isEmpty()) {
            s.append(": ").append(key);
            if (!value.isEmpty()) {
                s.append('=').append(value.contains("\n") ? "'" + value.replace("\n", "\\n") + "'" : value);
            }
        }
        return s.append(": ").append(message).toString();
    }
}
