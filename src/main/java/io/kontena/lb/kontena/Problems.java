package io.kontena.lb.kontena;

import io.kontena.lb.config.Problem;
import java.util.ArrayList;
import java.util.List;

/** Collects problems in the order they are found, which the translator keeps stable. */
final class Problems {
    private final List<Problem> found = new ArrayList<>();

    void add(String subject, String key, String value, String message) {
        found.add(new Problem(subject, key, value, message));
    }

    int count() {
        return found.size();
    }

    List<Problem> list() {
        return List.copyOf(found);
    }
}
