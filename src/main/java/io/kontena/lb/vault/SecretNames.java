package io.kontena.lb.vault;

import java.util.regex.Pattern;

/** Secret names as Kontena allowed them: letters, digits, '_' and '-', not starting with '-'. */
public final class SecretNames {
    private static final Pattern VALID = Pattern.compile("(?!-)[A-Za-z0-9_-]+");

    private SecretNames() {
    }

    public static boolean valid(String name) {
        return name != null && VALID.matcher(name).matches();
    }

    static String check(String name) {
        if (!valid(name)) {
            throw new VaultException("'" + name + "' is not a valid secret name: use letters, digits, '_' and '-', "
                    + "not starting with '-'");
        }
        return name;
    }
}
