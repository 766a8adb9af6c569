package io.kontena.lb.kontena;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Comparator;
import java.util.Optional;

/** "Did you mean ...?": the closest of the valid names to a mistyped one. */
final class Suggestions {
    private Suggestions() {
    }

    static Optional<String> closest(String given, Collection<String> valid) {
        return valid.stream()
                .filter(v -> isClose(given, v))
                .min(Comparator.comparingInt((String v) -> distance(given, v)).thenComparing(v -> v));
    }

    // Close means a few typos, one name inside the other (VIRTUAL_HOST in VIRTUAL_HOSTS), or a word left out
    // (KEEP_PATH for KEEP_VIRTUAL_PATH).
    private static boolean isClose(String given, String valid) {
        int shorter = Math.min(given.length(), valid.length());
        return distance(given, valid) <= Math.max(2, shorter / 4)
                || shorter >= 4 && (given.contains(valid) || valid.contains(given))
                || words(valid).containsAll(words(given));
    }

    private static List<String> words(String name) {
        return Arrays.asList(name.split("_"));
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int replace = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(replace, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
