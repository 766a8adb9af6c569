package io.kontena.lb.proxy;

import java.util.Map;

/**
 * A read-only map from strings to values that is looked up by a region of a larger string, so that a request's
 * host or path prefix is found without cutting a substring out of it first (the routing hot path must not
 * allocate). Open addressing with linear probing at a load factor of at most one half keeps probes short.
 *
 * <p>With {@code foldCase}, lookups ignore ASCII case; keys must then already be lower case. Only ASCII is
 * folded because host names travel as ASCII (internationalised names as punycode).
 */
final class RegionMap<V> {
    private final boolean foldCase;
    private final String[] keys;
    private final int[] hashes;
    private final Object[] values;
    private final int mask;
    private final int size;

    RegionMap(Map<String, V> entries, boolean foldCase) {
        this.foldCase = foldCase;
        int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2 - 1)) << 1;
        this.keys = new String[capacity];
        this.hashes = new int[capacity];
        this.values = new Object[capacity];
        this.mask = capacity - 1;
        this.size = entries.size();
        for (Map.Entry<String, V> e : entries.entrySet()) {
            String key = e.getKey();
            int h = spread(hash(key, 0, key.length(), foldCase));
            int i = h & mask;
            while (keys[i] != null) {
                i = (i + 1) & mask;
            }
            keys[i] = key;
            hashes[i] = h;
            values[i] = e.getValue();
        }
    }

    int size() {
        return size;
    }

    /** The value whose key equals {@code s[start, end)}, or null. */
    V get(String s, int start, int end) {
        return get(s, start, end, hash(s, start, end, foldCase));
    }

    /**
     * As {@link #get(String, int, int)}, with the region's {@link #hash} already known: a caller walking a host
     * name from its end gets the hash of every suffix along the way.
     */
    @SuppressWarnings("unchecked")
    V get(String s, int start, int end, int hash) {
        int h = spread(hash);
        int len = end - start;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            String k = keys[i];
            if (k == null) {
                return null;
            }
            if (hashes[i] == h && k.length() == len && regionEquals(k, s, start)) {
                return (V) values[i];
            }
        }
    }

    private boolean regionEquals(String key, String s, int start) {
        if (!foldCase) {
            return s.startsWith(key, start);
        }
        for (int i = 0, n = key.length(); i < n; i++) {
            if (key.charAt(i) != lower(s.charAt(start + i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The hash of {@code s[start, end)}, taken from the last character to the first, so that {@link #step}
     * extends a suffix's hash by one character to its left.
     */
    static int hash(String s, int start, int end, boolean foldCase) {
        int h = 0;
        for (int i = end - 1; i >= start; i--) {
            h = step(h, s.charAt(i), foldCase);
        }
        return h;
    }

    static int step(int hash, char c, boolean foldCase) {
        return 31 * hash + (foldCase ? lower(c) : c);
    }

    /** Host names share long suffixes, and the table index uses only the low bits. */
    private static int spread(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }
}
