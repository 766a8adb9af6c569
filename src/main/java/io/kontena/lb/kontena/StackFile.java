package io.kontena.lb.kontena;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a Kontena stack file in either of its shapes: the first one, a map of service name to service, and the
 * later one with {@code stack:}, {@code version:} and {@code services:} (other top-level keys such as
 * {@code variables:} are ignored). Fields the load balancer does not use are ignored too.
 */
public final class StackFile {
    private static final Pattern SERVICE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
    private static final Pattern ENV_NAME = Pattern.compile("[^=\\s]+");
    private static final String SEED_SHAPE = "a map of services (or stack:, version: and services:)";

    private StackFile() {
    }

    /** @throws StackFileException when the file cannot be read or is not a stack file */
    public static Stack read(Path path) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes(path))).toString();
        } catch (CharacterCodingException e) {
            throw new StackFileException(path + ": not UTF-8 text", e);
        }
        return parse(text, path.toString());
    }

    /** The file's bytes; @throws StackFileException saying why the file cannot be read */
    public static byte[] bytes(Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new StackFileException(path + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new StackFileException(path + ": permission denied", e);
        } catch (IOException e) {
            throw new StackFileException(path + (Files.isDirectory(path) ? ": a directory, not a stack file"
                    : ": cannot read: " + e.getMessage()), e);
        }
    }

    /**
     * @param origin names the text in error messages, usually its file name
     * @throws StackFileException naming origin, line and column, the service and field, and what was expected
     */
    public static Stack parse(String text, String origin) {
        YamlTree tree = new YamlTree(origin);
        Node root = compose(text, origin);
        if (YamlTree.isNull(root)) {
            throw new StackFileException(origin + ": the file is empty; expected " + SEED_SHAPE);
        }
        Map<String, Node> top = tree.map(root, "top level", SEED_SHAPE);
        if (!isLaterShape(top)) {
            return new Stack(Optional.empty(), services(tree, top));
        }
        Optional<String> name = YamlTree.isNull(top.get("stack"))
                ? Optional.empty()
                : Optional.of(tree.text(top.get("stack"), "field 'stack'", "a stack name"));
        Map<String, Node> services = tree.map(top.get("services"), "field 'services'", "a map of services");
        return new Stack(name, services(tree, services));
    }

    private static Node compose(String text, String origin) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(100);
        options.setNestingDepthLimit(50);
        // certificates are written inline: 1,000 RSA bundles are 3.3 MB, past SnakeYAML's default of 3 MB
        options.setCodePointLimit(64 * 1024 * 1024);
        try {
            // Yaml.compose does the same, but a Yaml also makes a constructor, a representer and dumper options
            // that a node tree does not need: about 15 ms of CPU of a start on one core.
            return new Composer(new ParserImpl(new StreamReader(new StringReader(text)), options), new Resolver(),
                    options).getSingleNode();
        } catch (MarkedYAMLException e) {
            String context = e.getContext() == null ? "" : " (" + e.getContext() + ")";
            throw StackFileException.at(origin, e.getProblemMark(), "invalid YAML: " + e.getProblem() + context);
        } catch (YAMLException e) {
            throw new StackFileException(origin + ": invalid YAML: " + e.getMessage(), e);
        }
    }

    // A service of the first shape may itself be called "services"; its map then holds an image, not services.
    private static boolean isLaterShape(Map<String, Node> top) {
        if (top.containsKey("stack") || top.containsKey("version")) {
            return true;
        }
        Node services = top.get("services");
        return services instanceof MappingNode mapping && mapping.getValue().stream()
                .noneMatch(t -> t.getKeyNode() instanceof ScalarNode key && key.getValue().equals("image"));
    }

    private static List<StackService> services(YamlTree tree, Map<String, Node> services) {
        List<StackService> result = new ArrayList<>();
        for (Map.Entry<String, Node> entry : services.entrySet()) {   // not forEach: one lambda fewer to spin up
            String name = entry.getKey();
            Node node = entry.getValue();
            if (!SERVICE_NAME.matcher(name).matches()) {
                throw tree.error(node, "service '" + name + "'",
                        "a service name is letters, digits, '_', '.' and '-', starting with a letter or digit");
            }
            result.add(service(tree, name, node));
        }
        return result;
    }

    private static StackService service(YamlTree tree, String name, Node node) {
        String where = "service '" + name + "'";
        Map<String, Node> fields = tree.map(node, where, "a map of fields (image:, environment:, links:, ...)");
        return new StackService(
                name,
                tree.textOrEmpty(fields.get("image"), where + ", field 'image'", "an image name"),
                environment(tree, where + ", field 'environment'", fields.get("environment")),
                entries(tree, where + ", field 'links'", fields.get("links"), "a list of service names",
                        "name, name:alias or stack/name", Link::parse),
                entries(tree, where + ", field 'ports'", fields.get("ports"), "a list of HOST:CONTAINER entries",
                        "HOST:CONTAINER", PortMapping::parse),
                // Upstream entries are checked by the translator, so that a bad one rejects only its service.
                entries(tree, where + ", field 'upstreams'", fields.get("upstreams"),
                        "a list of host or host:port entries", "host or host:port", String::trim),
                secrets(tree, where + ", field 'secrets'", fields.get("secrets")),
                healthCheck(tree, where + ", field 'health_check'", fields.get("health_check")));
    }

    /** Its fields as written; what they say is checked by the translator, so a bad one rejects only this service. */
    private static Map<String, String> healthCheck(YamlTree tree, String where, Node node) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (Map.Entry<String, Node> field : tree.map(node, where, "a map of protocol:, uri:, port:, interval: and "
                + "timeout:").entrySet()) {
            fields.put(field.getKey(), tree.textOrEmpty(field.getValue(), where + ", " + field.getKey(),
                    "a text or a number"));
        }
        return fields;
    }

    private static Map<String, String> environment(YamlTree tree, String where, Node node) {
        String expected = "a list of KEY=VALUE or a map of KEY: VALUE";
        Map<String, String> env = new LinkedHashMap<>();
        if (node instanceof SequenceNode) {
            for (Node item : tree.list(node, where, expected)) {
                String entry = tree.text(item, where, "KEY=VALUE");
                int eq = entry.indexOf('=');
                String key = eq < 0 ? entry : entry.substring(0, eq);
                putVariable(tree, where, item, env, key, eq < 0 ? "" : entry.substring(eq + 1));
            }
            return env;
        }
        for (Map.Entry<String, Node> variable : tree.map(node, where, expected).entrySet()) {
            String key = variable.getKey();
            Node value = variable.getValue();
            putVariable(tree, where, value, env, key,
                    tree.textOrEmpty(value, where + ", variable " + key, "a text, number or boolean"));
        }
        return env;
    }

    private static void putVariable(YamlTree tree, String where, Node at, Map<String, String> env,
                                    String key, String value) {
        if (!ENV_NAME.matcher(key).matches()) {
            throw tree.error(at, where, "'" + key + "' is not a variable name; expected KEY=VALUE");
        }
        if (env.putIfAbsent(key, value) != null) {
            throw tree.error(at, where, "variable " + key + " is set twice");
        }
    }

    /** A list of scalars, each read by parse, which throws what is wrong with an entry. */
    private static <T> List<T> entries(YamlTree tree, String where, Node node, String expectedList,
                                       String expectedEntry, Function<String, T> parse) {
        List<T> entries = new ArrayList<>();
        for (Node item : tree.list(node, where, expectedList)) {
            String text = tree.text(item, where, expectedEntry);
            try {
                entries.add(parse.apply(text));
            } catch (IllegalArgumentException e) {
                throw tree.error(item, where, "'" + text + "': " + e.getMessage());
            }
        }
        return entries;
    }

    private static List<SecretRef> secrets(YamlTree tree, String where, Node node) {
        String expected = "a map with secret:, name: and type:";
        List<SecretRef> secrets = new ArrayList<>();
        for (Node item : tree.list(node, where, "a list of maps with secret:, name: and type:")) {
            if (YamlTree.isNull(item)) {
                throw tree.expected(item, where, expected);
            }
            Map<String, Node> fields = tree.map(item, where, expected);
            secrets.add(new SecretRef(
                    required(tree, where, item, fields, "secret", "a vault key"),
                    required(tree, where, item, fields, "name", "a variable name"),
                    fields.containsKey("type") ? tree.text(fields.get("type"), where + ", type", "env") : "env"));
        }
        return secrets;
    }

    private static String required(YamlTree tree, String where, Node item, Map<String, Node> fields,
                                   String key, String expected) {
        if (!fields.containsKey(key)) {
            throw tree.error(item, where, "missing '" + key + ":' (" + expected + ")");
        }
        return tree.text(fields.get(key), where + ", " + key, expected);
    }
}
