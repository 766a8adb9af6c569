package io.kontena.lb.kontena;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a composed YAML node tree. Working on nodes instead of constructed objects keeps every value's position
 * for error messages and its text exactly as written ({@code 80:80} stays a string instead of YAML 1.1's
 * base-60 number, {@code 1.10} keeps its trailing zero).
 */
final class YamlTree {
    private static final Set<Tag> PLAIN_TAGS = Set.of(
            Tag.STR, Tag.INT, Tag.FLOAT, Tag.BOOL, Tag.NULL, Tag.TIMESTAMP, Tag.MAP, Tag.SEQ, Tag.MERGE);

    private final String origin;

    YamlTree(String origin) {
        this.origin = origin;
    }

    StackFileException error(Node at, String context, String message) {
        return StackFileException.at(origin, at == null ? null : at.getStartMark(), context + ": " + message);
    }

    StackFileException expected(Node at, String context, String expected) {
        return error(at, context, "expected " + expected + ", found " + describe(at));
    }

    static boolean isNull(Node node) {
        return node == null || node instanceof ScalarNode && node.getTag().equals(Tag.NULL);
    }

    static boolean isScalar(Node node) {
        return node instanceof ScalarNode && !isNull(node);
    }

    /** The entries of a map, keys in file order, merge keys ({@code <<: *anchor}) applied; nothing gives none. */
    Map<String, Node> map(Node node, String context, String expected) {
        return map(node, context, expected, Collections.newSetFromMap(new IdentityHashMap<>()));
    }

    private Map<String, Node> map(Node node, String context, String expected, Set<Node> visiting) {
        checkTag(node, context);
        if (isNull(node)) {
            return Map.of();
        }
        if (!(node instanceof MappingNode mapping)) {
            throw expected(node, context, expected);
        }
        if (!visiting.add(node)) {
            throw error(node, context, "a merge key (<<) refers back to the map it is in");
        }
        Map<String, Node> entries = new LinkedHashMap<>();
        Map<String, Node> merged = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node key = tuple.getKeyNode();
            if (key.getTag().equals(Tag.MERGE)) {
                for (Node source : mergeSources(tuple.getValueNode(), context)) {
                    map(source, context, "a map to merge", visiting).forEach(merged::putIfAbsent);
                }
                continue;
            }
            checkTag(key, context);
            if (!isScalar(key)) {
                throw expected(key, context, "a name as key");
            }
            String name = ((ScalarNode) key).getValue();
            Node previous = entries.putIfAbsent(name, tuple.getValueNode());
            if (previous != null) {
                throw error(key, context, "'" + name + "' is given twice");
            }
        }
        visiting.remove(node);
        merged.forEach(entries::putIfAbsent);
        return entries;
    }

    private List<Node> mergeSources(Node value, String context) {
        if (value instanceof SequenceNode sequence) {
            return sequence.getValue();
        }
        if (value instanceof MappingNode) {
            return List.of(value);
        }
        throw expected(value, context, "a map or a list of maps after <<");
    }

    /** The items of a list; nothing gives none. */
    List<Node> list(Node node, String context, String expected) {
        checkTag(node, context);
        if (isNull(node)) {
            return List.of();
        }
        if (!(node instanceof SequenceNode sequence)) {
            throw expected(node, context, expected);
        }
        return sequence.getValue();
    }

    /** A scalar's text exactly as written. */
    String text(Node node, String context, String expected) {
        checkTag(node, context);
        if (!isScalar(node)) {
            throw expected(node, context, expected);
        }
        return ((ScalarNode) node).getValue();
    }

    /** A scalar's text, "" for nothing. */
    String textOrEmpty(Node node, String context, String expected) {
        return isNull(node) ? "" : text(node, context, expected);
    }

    // Explicit tags are the one way YAML could ask for a type of its own; only YAML's plain ones mean anything here.
    private void checkTag(Node node, String context) {
        if (node != null && !PLAIN_TAGS.contains(node.getTag())) {
            throw error(node, context, "unsupported YAML tag " + node.getTag().getValue());
        }
    }

    static String describe(Node node) {
        if (isNull(node)) {
            return "nothing";
        }
        if (node instanceof MappingNode) {
            return "a map";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return "'" + ((ScalarNode) node).getValue() + "'";
    }
}
