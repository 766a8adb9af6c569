package io.kontena.lb.kontena;

import java.util.List;
import java.util.Optional;

/**
 * A parsed stack file.
 *
 * @param name     the {@code stack:} field as written (for example "user/app"), when the file has one
 * @param services in file order
 */
public record Stack(Optional<String> name, List<StackService> services) {
    public Stack {
        services = List.copyOf(services);
    }

    public Optional<StackService> service(String serviceName) {
        return services.stream().filter(s -> s.name().equals(serviceName)).findFirst();
    }

    /** The name that {@code stack/service} links use for this stack: the part after the last '/'. */
    public Optional<String> linkName() {
        return name.map(n -> n.substring(n.lastIndexOf('/') + 1));
    }
}
