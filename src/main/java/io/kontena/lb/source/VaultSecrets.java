package io.kontena.lb.source;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.kontena.SecretRef;
import io.kontena.lb.kontena.Stack;
import io.kontena.lb.kontena.StackService;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.vault.SecretMapping;
import io.kontena.lb.vault.SecretStore;
import java.util.ArrayList;
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
 *
 * <p>A mapped secret that is not in the vault is a problem of its service, never a variable left shorter in silence:
 * a balanced service is then left out (its last good version keeps serving: a service whose users are missing must
 * not be served without them), and the load balancer's certificates of that variable keep serving as they were.
 */
public final class VaultSecrets {
    private static final Logger log = LoggerFactory.getLogger(VaultSecrets.class);
    private static final String BALANCED_SERVICE_PREFIX = "KONTENA_LB_";

    private VaultSecrets() {
    }

    /**
     * A stack with its secrets in place, and what could not be put there.
     *
     * @param sealed the variables whose values came from the vault, as {@link #finish(LbConfig, List, Map)} takes
     *               them: "service\nVARIABLE" -> VARIABLE
     */
    public record Resolved(Stack stack, List<Problem> problems, Map<String, String> sealed) {
        public Resolved {
            problems = List.copyOf(problems);
            sealed = Map.copyOf(sealed);
        }

        /** The stack's translation, with the problems of its secrets, and none that shows a value of the vault. */
        public LbConfig finish(LbConfig translated) {
            return VaultSecrets.finish(translated, problems, sealed);
        }
    }

    /**
     * A translation with the problems found before it, where no problem shows a value that came from the vault (a
     * password, a key): each of {@code sealed}'s variables ("subject\nkey") shows "(not shown)" and is named by the
     * key that mapped it.
     */
    static LbConfig finish(LbConfig translated, List<Problem> before, Map<String, String> sealed) {
        List<Problem> all = new ArrayList<>(before);
        all.addAll(translated.problems());
        if (sealed.isEmpty()) {
            return translated.withProblems(all);
        }
        List<Problem> shown = new ArrayList<>();
        for (Problem p : all) {
            String key = sealed.get(p.subject() + "\n" + p.key());
            shown.add(key == null ? p : new Problem(p.subject(), key, p.value().isEmpty() ? "" : "(not shown)",
                    p.message()));
        }
        return translated.withProblems(shown);
    }

    // loops rather than streams: needed runs on the start path, where the JVM spins a class for each lambda
    public static boolean needed(Stack stack) {
        for (StackService s : stack.services()) {
            if (!read(s).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** @throws io.kontena.lb.vault.VaultException when the vault cannot be read */
    public static Resolved resolve(Stack stack, SecretStore store) {
        Map<String, String> vault = store.readAll();
        List<Problem> problems = new ArrayList<>();
        Map<String, String> sealed = new HashMap<>();
        List<StackService> services = new ArrayList<>();
        for (StackService s : stack.services()) {
            List<SecretRef> refs = read(s);
            if (refs.isEmpty()) {
                services.add(s);
                continue;
            }
            int before = problems.size();
            refs.forEach(r -> sealed.put(s.name() + "\n" + r.name(), r.name()));
            Map<String, String> env = new HashMap<>(s.environment());
            env.putAll(environment(s.name(), refs, vault, problems));
            if (problems.size() == before || Translator.isLoadBalancer(s)) {
                services.add(new StackService(s.name(), s.image(), env, s.links(), s.ports(), s.upstreams(),
                        s.secrets(), s.healthCheck()));
            }
        }
        return new Resolved(new Stack(stack.name(), services), problems, sealed);
    }

    /**
     * The variables that {@code refs}, the mappings of service {@code subject}, make of the vault's secrets. A secret
     * that is missing is a problem added to {@code problems}, keyed by its variable; a type other than env is logged.
     *
     * @param vault the vault's secrets ({@link SecretStore#readAll})
     */
    static Map<String, String> environment(String subject, List<SecretRef> refs, Map<String, String> vault,
                                           List<Problem> problems) {
        List<SecretMapping> mappings = refs.stream().filter(r -> r.type().equals("env"))
                .map(r -> new SecretMapping(r.secret(), r.name())).toList();
        SecretMapping.Resolved resolved = SecretMapping.resolve(mappings, vault);
        for (SecretMapping m : mappings) {
            if (resolved.missing().contains(m.secret())) {
                problems.add(new Problem(subject, m.name(), m.secret(), "secret '" + m.secret() + "' is not in "
                        + "the vault; write it with: kontena-lb vault write " + m.secret() + " VALUE"));
            }
        }
        refs.stream().filter(r -> !r.type().equals("env")).map(SecretRef::type).distinct().forEach(t ->
                log.warn("{}: secrets of type '{}' are not supported; only type: env", subject, t));
        return resolved.environment();
    }

    /** The mappings of {@code service} that the load balancer reads. */
    private static List<SecretRef> read(StackService service) {
        boolean lb = Translator.isLoadBalancer(service);
        List<SecretRef> refs = new ArrayList<>();
        for (SecretRef r : service.secrets()) {
            if (lb || r.name().startsWith(BALANCED_SERVICE_PREFIX)) {
                refs.add(r);
            }
        }
        return refs;
    }
}
