package io.kontena.lb.vault;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One {@code secrets:} entry of a stack file: vault secret {@code secret} becomes environment variable
 * {@code name}. Several entries with the same name are joined with a newline, in the order given, which is how
 * several certificates reach {@code SSL_CERTS}.
 */
public record SecretMapping(String secret, String name) {

    public SecretMapping {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(name, "name");
    }

    /**
     * @param environment the variables the mappings produce
     * @param missing     secrets that are not in the vault (their variables are left out or shorter)
     */
    public record Resolved(Map<String, String> environment, List<String> missing) {
        public Resolved {
            environment = Map.copyOf(environment);
            missing = List.copyOf(missing);
        }
    }

    /** @param secrets the vault's secrets, read once ({@link SecretStore#readAll}), so all come from one version */
    public static Resolved resolve(List<SecretMapping> mappings, Map<String, String> secrets) {
        Map<String, String> environment = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (SecretMapping mapping : mappings) {
            String value = secrets.get(mapping.secret());
            if (value == null) {
                missing.add(mapping.secret());
                continue;
            }
            environment.merge(mapping.name(), value, (joined, next) -> joined + "\n" + next);
        }
        return new Resolved(environment, missing);
    }
}
