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
        for (StackService service : services) {   // not a stream: no lambda to spin up on the start path
            if (service.name().equals(serviceName)) {
                return Optional.of(service);
            }
        }
        return Optional.empty();
    }

    /** The name that {@code stack/service} links use for this stack: the part after the last '/'. */
    public Optional<String> linkName() {
        return name.isEmpty() ? name : Optional.of(name.get().substring(name.get().lastIndexOf('/') + 1));
    }
}
