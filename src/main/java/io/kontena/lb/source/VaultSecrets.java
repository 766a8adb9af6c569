package io.kontena.lb.source;

import io.kontena.lb.kontena.SecretRef;
import io.kontena.lb.kontena.Stack;
import io.kontena.lb.kontena.StackService;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.vault.SecretMapping;
import io.kontena.lb.vault.SecretStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts vault secrets that services map in their {@code secrets:} ({@code type: env}) into their environment, as the
 * orchestrator did: several secrets mapped to one name (SSL_CERTS) are joined. Read are the mappings of load
 * balancer services, and those of other services to KONTENA_LB_* names (KONTENA_LB_BASIC_AUTH_SECRETS, typically);
 * the application's own secrets are no business of the load balancer, and are left alone.
 */
public final class VaultSecrets {
    private static final Logger log = LoggerFactory.getLogger(VaultSecrets.class);
    private static final String BALANCED_SERVICE_PREFIX = "KONTENA_LB_";

    private VaultSecrets() {
    }

    public static boolean needed(Stack stack) {
        return stack.services().stream().anyMatch(s -> !read(s).isEmpty());
    }

    public static Stack resolve(Stack stack, SecretStore store) {
        List<StackService> services = stack.services().stream().map(s -> {
            List<SecretRef> refs = read(s);
            if (refs.isEmpty()) {
                return s;
            }
            Map<String, String> env = new HashMap<>(s.environment());
            env.putAll(environment(s.name(), refs, store));
            return new StackService(s.name(), s.image(), env, s.links(), s.ports(), s.upstreams(), s.secrets(),
                    s.healthCheck());
        }).toList();
        return new Stack(stack.name(), services);
    }

    /**
     * The variables that {@code refs}, the mappings of service {@code subject}, make of the vault's secrets; a
     * secret that is missing, and a type other than env, are logged and left out.
     *
     * @throws io.kontena.lb.vault.VaultException when the vault cannot be read
     */
    static Map<String, String> environment(String subject, List<SecretRef> refs, SecretStore store) {
        List<SecretMapping> mappings = refs.stream().filter(r -> r.type().equals("env"))
                .map(r -> new SecretMapping(r.secret(), r.name())).toList();
        SecretMapping.Resolved resolved = SecretMapping.resolve(mappings, store);
        if (!resolved.missing().isEmpty()) {
            log.warn("{}: secrets not in the vault: {} (write them with: kontena-lb vault write NAME VALUE)",
                    subject, String.join(", ", resolved.missing()));
        }
        refs.stream().filter(r -> !r.type().equals("env")).map(SecretRef::type).distinct().forEach(t ->
                log.warn("{}: secrets of type '{}' are not supported; only type: env", subject, t));
        return resolved.environment();
    }

    /** The mappings of {@code service} that the load balancer reads. */
    private static List<SecretRef> read(StackService service) {
        boolean lb = Translator.isLoadBalancer(service);
        return service.secrets().stream().filter(r -> lb || r.name().startsWith(BALANCED_SERVICE_PREFIX)).toList();
    }
}
