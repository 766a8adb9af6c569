package io.kontena.lb.proxy.http;

import io.kontena.lb.config.BasicAuth;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.codec.digest.Crypt;

/**
 * Checks a request's {@code Authorization: Basic ...} against a service's users. A crypt(3) hash takes a millisecond
 * or more to compute (SHA-512 crypt's 5,000 rounds), on the event loop as with HAProxy, so the header values that
 * passed, and those that failed, are remembered, up to {@value #REMEMBERED} of each: a client sends the same one with
 * every request. A name that is no user's is checked against a hash all the same, so that the time an answer takes
 * does not tell which names are users.
 */
public final class BasicAuthCheck {
    private static final int REMEMBERED = 1024;
    private static final String SCHEME = "basic ";

    private final Map<String, BasicAuth.User> users = new ConcurrentHashMap<>();
    private static final BasicAuth.User NOBODY = new BasicAuth.User("", Crypt.crypt("", "$6$nobody"), true);
    private final Map<String, Boolean> passed = new ConcurrentHashMap<>();
    private final Map<String, Boolean> failed = new ConcurrentHashMap<>();
    /** For WWW-Authenticate. */
    private final String realm;

    public BasicAuthCheck(String service, BasicAuth auth) {
        auth.users().forEach(u -> users.put(u.name(), u));
        this.realm = "Basic realm=\"" + service.replace("\"", "") + "\", charset=\"UTF-8\"";
    }

    /** The WWW-Authenticate header of a 401 for this service. */
    public String challenge() {
        return realm;
    }

    /** Whether the request's Authorization header (null when it has none) names a user with the right password. */
    public boolean allows(String authorization) {
        if (authorization == null || authorization.length() <= SCHEME.length()
                || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return false;
        }
        if (passed.containsKey(authorization)) {
            return true;
        }
        if (failed.containsKey(authorization)) {
            return false;
        }
        String credentials;
        try {
            credentials = new String(Base64.getDecoder().decode(authorization.substring(SCHEME.length()).trim()),
                    StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = credentials.indexOf(':');
        BasicAuth.User user = colon < 0 ? null : users.get(credentials.substring(0, colon));
        boolean ok = matches(user == null ? NOBODY : user, colon < 0 ? "" : credentials.substring(colon + 1))
                && user != null;
        remember(ok ? passed : failed, authorization);
        return ok;
    }

    private static void remember(Map<String, Boolean> outcomes, String authorization) {
        if (outcomes.size() >= REMEMBERED) {
            outcomes.clear();
        }
        outcomes.put(authorization, Boolean.TRUE);
    }

    private static boolean matches(BasicAuth.User user, String password) {
        String expected = user.password();
        String given = user.hashed() ? Crypt.crypt(password, expected) : password;
        // in constant time: how much of a guess was right must not show in how long the answer takes
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }
}
