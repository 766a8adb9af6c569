package io.kontena.lb.kontena;

/** Port numbers as variables and entries give them. */
final class Ports {
    static final String VALID = "expected a whole number from 1 to 65535";

    private Ports() {
    }

    /** @throws IllegalArgumentException when the text is not a port from 1 to 65535 */
    static int parse(String text) {
        return parse(text, 1);
    }

    /** @throws IllegalArgumentException when the text is not a port from min to 65535 */
    static int parse(String text, int min) {
        String digits = text.trim();
        if (!digits.matches("[0-9]{1,5}") || Integer.parseInt(digits) < min || Integer.parseInt(digits) > 65535) {
            throw new IllegalArgumentException("'" + text + "' is not a port from " + min + " to 65535");
        }
        return Integer.parseInt(digits);
    }
}
