package io.kontena.lb.proxy;

/**
 * Finds the parts of a request that routing looks at, as index ranges into the strings as received.
 * Ranges are packed into a long ({@code start << 32 | end}) so that no object is made per request;
 * {@link #NONE} means the part is absent.
 */
final class RequestTarget {
    static final long NONE = -1L;

    private RequestTarget() {
    }

    static long range(int start, int end) {
        return ((long) start << 32) | (end & 0xFFFFFFFFL);
    }

    static int start(long range) {
        return (int) (range >>> 32);
    }

    static int end(long range) {
        return (int) range;
    }

    /**
     * Where the authority of an absolute-form target ({@code http://host:port/path}) begins, or -1 for any other
     * form (origin-form {@code /path}, asterisk-form {@code *}, authority-form of CONNECT).
     */
    static int authorityStart(String uri) {
        if (uri.isEmpty() || uri.charAt(0) == '/') {
            return -1;
        }
        int colon = uri.indexOf("://");
        if (colon <= 0) {
            return -1;
        }
        for (int i = 0; i < colon; i++) {
            if (!isSchemeChar(uri.charAt(i))) {
                return -1;
            }
        }
        return colon + 3;
    }

    /** Where the path begins: 0 for origin-form, after the authority for absolute-form. */
    static int pathStart(String uri, int authorityStart) {
        if (authorityStart < 0) {
            return 0;
        }
        for (int i = authorityStart, n = uri.length(); i < n; i++) {
            char c = uri.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                return i;
            }
        }
        return uri.length();
    }

    /** Where the path ends: at the query or fragment, else at the end. */
    static int pathEnd(String uri, int pathStart) {
        for (int i = pathStart, n = uri.length(); i < n; i++) {
            char c = uri.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return uri.length();
    }

    /**
     * The host name inside {@code s[start, end)} (a Host header or an authority): surrounding blanks, user info,
     * the port, IPv6 brackets and one trailing dot removed. {@link #NONE} when nothing is left.
     */
    static long host(String s, int start, int end) {
        while (start < end && isBlank(s.charAt(start))) {
            start++;
        }
        while (end > start && isBlank(s.charAt(end - 1))) {
            end--;
        }
        int at = s.lastIndexOf('@', end - 1);
        if (at >= start) {
            start = at + 1;
        }
        if (start < end && s.charAt(start) == '[') {
            int close = s.indexOf(']', start);
            if (close > start && close < end) {
                start++;
                end = close;
            }
        } else {
            int colon = indexOf(s, ':', start, end);
            // A second colon means a bare IPv6 address, which has no port to strip.
            if (colon >= 0 && indexOf(s, ':', colon + 1, end) < 0) {
                end = colon;
            }
        }
        if (end > start && s.charAt(end - 1) == '.') {
            end--;
        }
        return end > start ? range(start, end) : NONE;
    }

    private static int indexOf(String s, char c, int from, int end) {
        for (int i = from; i < end; i++) {
            if (s.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isSchemeChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.';
    }
}
