package io.kontena.lb.kontena;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code links:} entry: {@code name}, {@code name:alias}, {@code stack/name} or {@code stack/name:alias}.
 *
 * @param stack   the stack named before '/', when given
 * @param service the linked service's name
 * @param alias   the name the link is known by inside the service, when given
 */
public record Link(Optional<String> stack, String service, Optional<String> alias) {
    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9_.-]*";
    private static final Pattern LINK =
            Pattern.compile("(?:(" + NAME + ")/)?(" + NAME + ")(?::(" + NAME + "))?");

    public static Link of(String service) {
        return new Link(Optional.empty(), service, Optional.empty());
    }

    /** @throws IllegalArgumentException saying what a link looks like */
    public static Link parse(String text) {
        Matcher m = LINK.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("expected name, name:alias or stack/name (letters, digits, '_', '.', '-')");
        }
        return new Link(Optional.ofNullable(m.group(1)), m.group(2), Optional.ofNullable(m.group(3)));
    }

    @Override
    public String toString() {
        return stack.map(s -> s + "/").orElse("") + service + alias.map(a -> ":" + a).orElse("");
    }
}
