package io.kontena.lb.kontena;

import io.kontena.lb.config.BasicAuth;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * KONTENA_LB_BASIC_AUTH_SECRETS: HAProxy userlist lines, one user each, {@code user NAME password CRYPT-HASH} or
 * {@code user NAME insecure-password PLAIN} (a trailing {@code groups ...} is read and left alone). The hashes are
 * crypt(3)'s SHA-512 ({@code $6$}, as {@code mkpasswd -m sha-512} makes them), SHA-256 ({@code $5$}) and MD5
 * ({@code $1$}).
 */
final class BasicAuthUsers {
    static final String VARIABLE = ServiceVariables.PREFIX + "BASIC_AUTH_SECRETS";
    private static final String FORMS = "expected 'user NAME password CRYPT-HASH' or 'user NAME insecure-password "
            + "PLAIN', one user per line";
    /** SHA-256 and SHA-512 crypt: salt up to 16 characters, rounds up to 100,000 (each check costs that many). */
    private static final Pattern SHA_HASH = Pattern.compile("\\$[56]\\$(rounds=([0-9]{1,6})\\$)?[./0-9A-Za-z]{1,16}"
            + "\\$[./0-9A-Za-z]+");
    /** MD5 crypt: salt up to 8 characters, no rounds. */
    private static final Pattern MD5_HASH = Pattern.compile("\\$1\\$[./0-9A-Za-z]{1,8}\\$[./0-9A-Za-z]{22}");
    private static final int MAX_ROUNDS = 100_000;
    private static final Pattern NAME = Pattern.compile("[^\\s:]+");

    private BasicAuthUsers() {
    }

    private static boolean isSupportedHash(String hash) {
        java.util.regex.Matcher sha = SHA_HASH.matcher(hash);
        if (sha.matches()) {
            return sha.group(2) == null || Integer.parseInt(sha.group(2)) <= MAX_ROUNDS;
        }
        return MD5_HASH.matcher(hash).matches();
    }

    /** The users; each bad line is a problem of the service, which then gets no basic authentication at all. */
    static Optional<BasicAuth> read(String service, String value, Problems problems) {
        int before = problems.count();
        List<BasicAuth.User> users = new ArrayList<>();
        Set<String> names = new HashSet<>();
        String[] lines = value.split("\n");
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] w = line.split("\\s+");
            String at = "line " + (n + 1) + ": ";
            if (w.length < 4 || !w[0].equals("user") || !(w[2].equals("password") || w[2].equals("insecure-password"))
                    || w.length > 4 && !(w.length == 6 && w[4].equals("groups"))) {
                problems.add(service, VARIABLE, value, at + FORMS);
            } else if (!NAME.matcher(w[1]).matches()) {
                problems.add(service, VARIABLE, value, at + "a user name has no ':' (basic authentication sends "
                        + "NAME:PASSWORD)");
            } else if (!names.add(w[1])) {
                problems.add(service, VARIABLE, value, at + "user " + w[1] + " is given twice");
            } else if (w[2].equals("password") && !isSupportedHash(w[3])) {
                problems.add(service, VARIABLE, value, at + (w[3].startsWith("$2") ? "bcrypt hashes are not supported"
                        : "not a crypt(3) hash") + "; give a SHA-512 one ($6$..., from mkpasswd -m sha-512), SHA-256 "
                        + "($5$..., up to 100,000 rounds) or MD5 ($1$...), or the password itself with "
                        + "insecure-password");
            } else {
                users.add(new BasicAuth.User(w[1], w[3], w[2].equals("password")));
            }
        }
        if (users.isEmpty() && problems.count() == before) {
            problems.add(service, VARIABLE, "", "no user is given; " + FORMS);
        }
        return problems.count() == before ? Optional.of(new BasicAuth(users)) : Optional.empty();
    }
}
