package io.kontena.lb.vault;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The vault file's content: a key check and the sealed values by name. JSON, written by hand (names are
 * {@link SecretNames} and values base64, so nothing needs escaping) and read with the YAML parser, which reads JSON.
 *
 * @param keyCheck a known text sealed with the key, so a wrong key is told apart from damage, even in an
 *                 empty vault; null for a vault that was never written
 * @param sealed   name → base64 of nonce, ciphertext and tag
 */
record VaultFile(String keyCheck, Map<String, String> sealed) {
    static final String FORMAT = "kontena-lb-vault/1";
    static final String KEY_CHECK_NAME = "vault-key-check";
    static final String KEY_CHECK_TEXT = "kontena-lb vault key check";
    static final VaultFile EMPTY = new VaultFile(null, Map.of());

    VaultFile {
        sealed = Map.copyOf(sealed);
    }

    static VaultFile read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return EMPTY;
        } catch (IOException e) {
            throw new VaultException("cannot read the vault file " + file + ": " + e.getMessage(), e);
        }
        if (text.isBlank()) {
            return EMPTY;
        }
        Object parsed;
        try {
            parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (RuntimeException e) {
            throw damaged(file, "it is not JSON");
        }
        if (!(parsed instanceof Map<?, ?> root) || !FORMAT.equals(root.get("format"))) {
            throw damaged(file, "it is not a kontena-lb vault (no \"format\": \"" + FORMAT + "\")");
        }
        Object check = root.get("keyCheck");
        Object secrets = root.get("secrets");
        if (!(check instanceof String) || !(secrets instanceof Map<?, ?> entries)) {
            throw damaged(file, "\"keyCheck\" or \"secrets\" is missing");
        }
        Map<String, String> sealed = new TreeMap<>();
        for (Map.Entry<?, ?> entry : entries.entrySet()) {
            if (!(entry.getKey() instanceof String name) || !(entry.getValue() instanceof String value)) {
                throw damaged(file, "an entry of \"secrets\" is not a name with a text");
            }
            sealed.put(name, value);
        }
        return new VaultFile((String) check, sealed);
    }

    Optional<String> get(String name) {
        return Optional.ofNullable(sealed.get(name));
    }

    VaultFile with(String name, String sealedValue) {
        Map<String, String> next = new TreeMap<>(sealed);
        next.put(name, sealedValue);
        return new VaultFile(keyCheck, next);
    }

    VaultFile without(String name) {
        Map<String, String> next = new TreeMap<>(sealed);
        next.remove(name);
        return new VaultFile(keyCheck, next);
    }

    VaultFile withKeyCheck(String check) {
        return new VaultFile(check, sealed);
    }

    String toJson() {
        StringBuilder json = new StringBuilder(256 + sealed.size() * 96)
                .append("{\n  \"format\": \"").append(FORMAT).append("\",\n")
                .append("  \"cipher\": \"AES-256-GCM\",\n")
                .append("  \"keyCheck\": \"").append(keyCheck).append("\",\n")
                .append("  \"secrets\": {");
        String separator = "\n";
        for (Map.Entry<String, String> entry : new TreeMap<>(sealed).entrySet()) {
            json.append(separator).append("    \"").append(entry.getKey()).append("\": \"")
                    .append(entry.getValue()).append('"');
            separator = ",\n";
        }
        return json.append(sealed.isEmpty() ? "}\n}\n" : "\n  }\n}\n").toString();
    }

    private static VaultException damaged(Path file, String why) {
        return new VaultException("the vault file " + file + " is damaged: " + why);
    }
}
