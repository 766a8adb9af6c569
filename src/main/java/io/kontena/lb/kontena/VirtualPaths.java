package io.kontena.lb.kontena;

/** The syntax of KONTENA_LB_VIRTUAL_PATH entries. */
final class VirtualPaths {
    private VirtualPaths() {
    }

    /**
     * One path prefix, without its trailing slash ("/" stays "/").
     *
     * @throws IllegalArgumentException saying what is wrong and what a path prefix looks like
     */
    static String prefix(String entry) {
        String path = entry.trim();
        if (path.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("a path prefix has no spaces; separate prefixes with commas");
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("a path prefix starts with '/', for example /api");
        }
        if (path.contains("?") || path.contains("#")) {
            throw new IllegalArgumentException("a path prefix has no query (?) or fragment (#), for example /api");
        }
        int end = path.length();
        while (end > 1 && path.charAt(end - 1) == '/') {
            end--;
        }
        return path.substring(0, end);
    }
}
