package io.kontena.lb.kontena;

import io.kontena.lb.config.Problem;
import java.util.ArrayList;
import java.util.List;

/** Collects problems in the order they are found, which the translator keeps stable. */
final class Problems {
    private final List<Problem> found = new ArrayList<>();

    /** The value of a key that holds passwords or their hashes is not repeated: problems go to logs and the API. */
    void add(String subject, String key, String value, String message) {
        boolean secret = key.toUpperCase(java.util.Locale.ROOT).contains("BASIC_AUTH");
        found.add(new Problem(subject, key, secret && !value.isEmpty() ? "(not shown)" : value, message));
    }

    int count() {
        return found.size();
    }

    List<Problem> list() {
        return List.copyOf(found);
    }
}
