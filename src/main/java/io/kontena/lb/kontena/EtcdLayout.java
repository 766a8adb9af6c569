package io.kontena.lb.kontena;

import io.kontena.lb.config.HttpService;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.config.TcpService;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.vault.SecretNames;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Kontena's etcd layout: one subtree per load balancer, {@code /kontena/haproxy/<lb>/}, with a directory of keys for
 * each balanced service ({@code services/<svc>/} for HTTP, {@code tcp-services/<svc>/} for TCP) and one key per
 * running instance under its {@code upstreams/}. Each key stands for the service variable it was written from
 * ({@code virtual_hosts} for KONTENA_LB_VIRTUAL_HOSTS), so the subtree is read as a stack of services linked to the
 * load balancer and translated with the stack file's rules; a problem names the etcd key rather than the variable.
 *
 * <p>Secret mappings are this project's addition: {@code secrets/<VARIABLE>} holds the names of the vault secrets (in
 * etcd, see the vault package) that a variable is made of, comma-separated, as a stack file's {@code secrets:} entries
 * map them: the load balancer's own ({@code secrets/SSL_CERTS = www_cert,api_cert}) and a service's, in its directory
 * ({@code services/web/secrets/KONTENA_LB_BASIC_AUTH_SECRETS = web_users}), which then stands for that key.
 */
public final class EtcdLayout {
    public static final String ROOT = "/kontena/haproxy/";
    static final String HTTP_DIR = "services";
    static final String TCP_DIR = "tcp-services";
    static final String UPSTREAMS = "upstreams";
    /** The directory of secret mappings: the load balancer's, relative to its subtree, and each service's. */
    public static final String SECRETS = "secrets/";
    /** Written for every service, so a directory without it is no service's. */
    public static final String BALANCE = "balance";
    /** Subject of the problems that concern no service: keys outside the services' directories. */
    static final String SUBJECT = "etcd";
    private static final Set<String> HTTP_KEYS = Set.of("balance", "virtual_hosts", "virtual_path",
            "keep_virtual_path", "custom_settings", "cookie", "basic_auth_secrets", "default_service");
    private static final Set<String> TCP_KEYS = Set.of("balance", "external_port", "custom_settings", "tls");
    /**
     * A service's health_check: fields, as keys: the orchestrator wrote uri and port; protocol, interval and timeout
     * are this project's, so that publish carries a stack's whole check.
     */
    private static final List<String> HEALTH_CHECK_FIELDS = List.of("protocol", "uri", "port", "interval", "timeout");
    private static final String HEALTH_CHECK_PREFIX = HealthCheckSettings.FIELD + "_";
    private static final String LB_IMAGE = "kontena/lb";

    private final String lb;
    private final String prefix;
    private final Problems problems = new Problems();
    /** service directory name -> its keys (relative to the directory) and values, sorted */
    private final Map<String, Map<String, String>> http = new TreeMap<>();
    private final Map<String, Map<String, String>> tcp = new TreeMap<>();
    /** "service\nvariable" (and "service\nupstreams\naddress") -> the etcd key it came from, for the problems */
    private final Map<String, String> keyOfVariable = new HashMap<>();

    private EtcdLayout(String lb) {
        this.lb = lb;
        this.prefix = prefix(lb);
    }

    /** The subtree of load balancer {@code lb} ("name", or "stack/name" for a load balancer of a stack). */
    public static String prefix(String lb) {
        return ROOT + lb + "/";
    }

    /**
     * The load balancer's name as Kontena gave it to the container: {@code KONTENA_STACK_NAME/KONTENA_SERVICE_NAME},
     * or the service name alone outside a stack (Kontena's own stack name for that is "null").
     */
    public static Optional<String> lbName(Map<String, String> env) {
        String service = env.getOrDefault("KONTENA_SERVICE_NAME", "").trim();
        String stack = env.getOrDefault("KONTENA_STACK_NAME", "").trim();
        if (service.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(stack.isEmpty() || stack.equals("null") ? service : stack + "/" + service);
    }

    /** The name of a stack's service in etcd: "stack-service", or the service's name alone. */
    public static String serviceName(Stack stack, String service) {
        return stack.linkName().map(n -> n + "-" + service).orElse(service);
    }

    /** The name of a stack's load balancer service in etcd: "stack/service", or the service's name alone. */
    public static String lbName(Stack stack, String lbService) {
        return stack.linkName().map(n -> n + "/" + lbService).orElse(lbService);
    }

    /** The directory of a service of load balancer {@code lb}: {@code /kontena/haproxy/<lb>/services/<service>/}. */
    public static String serviceDir(String lb, boolean tcp, String service) {
        return prefix(lb) + (tcp ? TCP_DIR : HTTP_DIR) + "/" + service + "/";
    }

    /** The key of one instance of a service: its directory's {@code upstreams/<instance>}. */
    public static String upstreamKey(String lb, boolean tcp, String service, String instance) {
        return serviceDir(lb, tcp, service) + UPSTREAMS + "/" + instance;
    }

    /**
     * The value of an instance's key for an address given as {@code host[:port]} (port 80 when left out, as
     * KONTENA_LB_INTERNAL_PORT's default).
     *
     * @throws IllegalArgumentException saying what is wrong and what an address looks like
     */
    public static String upstreamValue(String address) {
        return UpstreamAddress.parse(address, ServiceVariables.DEFAULT_INTERNAL_PORT).toString();
    }

    /** The service directories ({@code services/web/}) that {@code keys}, every key of a subtree, hold. */
    public static Set<String> serviceDirs(String lb, Collection<String> keys) {
        Set<String> dirs = new TreeSet<>();
        for (String key : keys) {
            String[] place = place(prefix(lb), key);
            if (place != null) {
                dirs.add(place[0] + "/" + place[1] + "/");
            }
        }
        return dirs;
    }

    /**
     * The load balancer whose subtree holds {@code key}, a key under {@link #ROOT}: "name" for
     * {@code /kontena/haproxy/name/services/...}, "stack/name" for {@code /kontena/haproxy/stack/name/services/...}.
     */
    public static Optional<String> lbNameOf(String key) {
        if (!key.startsWith(ROOT)) {
            return Optional.empty();
        }
        String relative = key.substring(ROOT.length());
        String[] own = relative.split("/", 3); // <lb>, its directory, the rest
        if (own.length == 3 && isLbKey(own[1], own[2])) {
            return Optional.of(own[0]);
        }
        String[] stacked = relative.split("/", 4); // <stack>, <lb>, its directory, the rest
        return stacked.length == 4 && isLbKey(stacked[2], stacked[3])
                ? Optional.of(stacked[0] + "/" + stacked[1]) : Optional.empty();
    }

    /**
     * Whether {@code dir/rest} is a key of a load balancer's subtree: under a services' directory, or one of its own
     * secret mappings ({@code secrets/<VARIABLE>}, one level: a load balancer of a stack named "secrets" keeps its
     * services under {@code <stack>/secrets/services/}).
     */
    private static boolean isLbKey(String dir, String rest) {
        return isKindDir(dir) || (dir + "/").equals(SECRETS) && !rest.contains("/");
    }

    private static boolean isKindDir(String name) {
        return name.equals(HTTP_DIR) || name.equals(TCP_DIR);
    }

    /**
     * The secret mappings of a subtree, each in the order that joins them.
     *
     * @param lb       the load balancer's own
     * @param services each service's, by its directory relative to the subtree ({@code services/web/})
     */
    public record Secrets(List<SecretRef> lb, Map<String, List<SecretRef>> services) {
        public boolean isEmpty() {
            return lb.isEmpty() && services.isEmpty();
        }
    }

    /**
     * The secret mappings in a load balancer's subtree; a bad key is left out here and is a problem of
     * {@link #translate}.
     *
     * @param keys every key under {@link #prefix(String)}, whole, with its value
     */
    public static Secrets secrets(String lb, Map<String, String> keys) {
        String prefix = prefix(lb);
        List<SecretRef> own = new ArrayList<>();
        Map<String, List<SecretRef>> services = new TreeMap<>();
        Map<String, String> mappings = new TreeMap<>(); // in key order, for a stable join; few, of all the keys
        keys.forEach((key, value) -> {
            if (key.contains("/" + SECRETS)) {
                mappings.put(key, value);
            }
        });
        mappings.forEach((key, value) -> {
            if (key.startsWith(prefix + SECRETS)) {
                String variable = key.substring(prefix.length() + SECRETS.length());
                if (secretsProblem(variable, value) == null) {
                    own.addAll(refs(variable, value));
                }
                return;
            }
            String[] place = place(prefix, key);
            if (place != null && place[2].startsWith(SECRETS)) {
                String variable = place[2].substring(SECRETS.length());
                if (serviceSecretsProblem(place[0].equals(TCP_DIR) ? TCP_KEYS : HTTP_KEYS, variable, value) == null) {
                    services.computeIfAbsent(place[0] + "/" + place[1] + "/", d -> new ArrayList<>())
                            .addAll(refs(variable, value));
                }
            }
        });
        return new Secrets(own, services);
    }

    private static List<SecretRef> refs(String variable, String value) {
        List<SecretRef> refs = new ArrayList<>();
        for (String secret : value.split(",")) {
            refs.add(new SecretRef(secret.trim(), variable, "env"));
        }
        return refs;
    }

    /** The service whose directory ({@code services/web/}) this is: "web". */
    public static String serviceOf(String dir) {
        return dir.substring(dir.indexOf('/') + 1, dir.length() - 1);
    }

    /**
     * {@code keys} with a service's secret mappings resolved: its {@code secrets/} keys replaced by the keys they
     * stand for, holding {@code variables}' values ({@code KONTENA_LB_BASIC_AUTH_SECRETS -> basic_auth_secrets}).
     *
     * @param dir the service's directory relative to the subtree, {@code services/web/}
     */
    public static Map<String, String> withSecrets(String lb, Map<String, String> keys, String dir,
                                                  Map<String, String> variables) {
        String secrets = prefix(lb) + dir + SECRETS;
        Map<String, String> resolved = new HashMap<>(keys);
        resolved.keySet().removeIf(k -> k.startsWith(secrets));
        variables.forEach((variable, value) -> resolved.put(keyOf(lb, dir, variable), value));
        return resolved;
    }

    /** The key a service's variable is kept in: {@code KONTENA_LB_BASIC_AUTH_SECRETS -> .../basic_auth_secrets}. */
    public static String keyOf(String lb, String dir, String variable) {
        return prefix(lb) + dir + variable.substring(ServiceVariables.PREFIX.length()).toLowerCase(Locale.ROOT);
    }

    /** {@code keys} without a service's directory ({@code services/web/}): one that is rejected whole. */
    public static Map<String, String> withoutService(String lb, Map<String, String> keys, String dir) {
        Map<String, String> rest = new HashMap<>(keys);
        rest.keySet().removeIf(k -> k.startsWith(prefix(lb) + dir));
        return rest;
    }

    /**
     * What a stack file's load balancer service maps from the vault, as keys relative to its subtree's
     * {@link #SECRETS}: {@code SSL_CERTS -> "www_cert,api_cert"}.
     */
    public static Map<String, String> secretKeysOf(StackService lb) {
        return mappings(lb, ref -> true);
    }

    /** A service's env mappings that {@code wanted} accepts, as their keys' values: variable -> "secret1,secret2". */
    private static Map<String, String> mappings(StackService service, Predicate<SecretRef> wanted) {
        Map<String, String> keys = new TreeMap<>();
        for (SecretRef ref : service.secrets()) {
            if (ref.type().equals("env") && wanted.test(ref)) {
                keys.merge(ref.name(), ref.secret(), (joined, next) -> joined + "," + next);
            }
        }
        return keys;
    }

    /** Why the load balancer's key {@code secrets/<variable>} with this value is no mapping, or null when it is one. */
    private static String secretsProblem(String variable, String value) {
        if (!LoadBalancerVariables.isSetting(variable)) {
            return "not a variable of the load balancer; " + prefix("<lb>") + SECRETS + "<VARIABLE> maps secrets to "
                    + "SSL_CERTS, SSL_CERT_<name>, KONTENA_LB_<...> or ACME_CHALLENGE_<token>";
        }
        return namesProblem(variable, value);
    }

    /** Why a service's key {@code secrets/<variable>} is no mapping, or null when it is one. */
    private static String serviceSecretsProblem(Set<String> valid, String variable, String value) {
        String key = variable.startsWith(ServiceVariables.PREFIX)
                ? variable.substring(ServiceVariables.PREFIX.length()).toLowerCase(Locale.ROOT) : "";
        if (!valid.contains(key) || !variable.equals(ServiceVariables.PREFIX + key.toUpperCase(Locale.ROOT))) {
            return "not a variable of the service's keys; " + SECRETS + "<VARIABLE> maps secrets to one of "
                    + String.join(", ", new TreeSet<>(valid).stream()
                            .map(k -> ServiceVariables.PREFIX + k.toUpperCase(Locale.ROOT)).toList());
        }
        return namesProblem(variable, value);
    }

    private static String namesProblem(String variable, String value) {
        for (String secret : value.split(",", -1)) {
            if (!SecretNames.valid(secret.trim())) {
                return "'" + secret.trim() + "' is not a secret's name; the value is the names of vault secrets, "
                        + "comma-separated (letters, digits, '_' and '-'), joined into " + variable + " in that order";
            }
        }
        return null;
    }

    /**
     * Where a key of the subtree under {@code prefix} belongs: {kind's directory, service, key within the service's
     * directory} ({"services", "web", "upstreams/web-1"}), or null when the layout has no place for it.
     */
    private static String[] place(String prefix, String key) {
        String[] parts = key.substring(prefix.length()).split("/", 3);
        return isKindDir(parts[0]) && parts.length == 3 && !parts[1].isEmpty() ? parts : null;
    }

    /**
     * Translates the subtree of load balancer {@code lb}. Bad input never throws: each bad key is a problem of its
     * service, which is left out while the rest stays.
     *
     * @param keys        every key under {@link #prefix(String)}, whole, with its value
     * @param environment the load balancer's own settings (certificates, KONTENA_LB_* of the load balancer), as a
     *                    load balancer service of a stack file has them
     * @param ports       where its container ports are published, as in a stack file's {@code ports:}
     */
    public static LbConfig translate(String lb, Map<String, String> keys, Map<String, String> environment,
                                     List<PortMapping> ports) {
        return new EtcdLayout(lb).translate(keys, environment, ports);
    }

    private LbConfig translate(Map<String, String> keys, Map<String, String> environment, List<PortMapping> ports) {
        for (Map.Entry<String, String> kv : new TreeMap<>(keys).entrySet()) {
            sort(kv.getKey(), kv.getValue());
        }
        List<StackService> services = new ArrayList<>();
        services.add(new StackService(lb, LB_IMAGE, environment, List.of(), ports, List.of(), List.of(), Map.of()));
        http.forEach((name, dir) -> service(name, Mode.HTTP, dir).ifPresent(services::add));
        tcp.forEach((name, dir) -> service(name, Mode.TCP, dir).ifPresent(services::add));
        LbConfig config = Translator.translateRegistered(new Stack(Optional.empty(), services), Optional.of(lb));
        List<Problem> all = new ArrayList<>(problems.list());
        for (Problem p : config.problems()) {
            String key = keyOfVariable.getOrDefault(p.subject() + "\n" + p.key() + "\n" + p.value(),
                    keyOfVariable.get(p.subject() + "\n" + p.key()));
            all.add(key == null ? p : new Problem(p.subject(), key, p.value(), p.message()));
        }
        return new LbConfig(config.httpPort(), config.http(), config.tcp(), all, config.https(), config.frontend());
    }

    /** Files one key under its service, or reports it when the layout has no place for it. */
    private void sort(String key, String value) {
        if (!lbNameOf(key).orElse(lb).equals(lb)) {
            return; // a key of load balancer "<lb>/<name>", a stack's, whose subtree lies inside this one's
        }
        if (key.startsWith(prefix + SECRETS)) {
            String variable = key.substring(prefix.length() + SECRETS.length());
            String problem = secretsProblem(variable, value);
            if (problem != null) {
                // named by its variable: the certificates it made keep serving until it is fixed
                problems.add(lb, LoadBalancerVariables.isSetting(variable) ? variable : key, value,
                        key + ": " + problem + "; it is left out");
            }
            return;
        }
        String[] place = place(prefix, key);
        if (place == null) {
            problems.add(SUBJECT, key, value, "not a key of the load balancer's layout, which is "
                    + prefix + HTTP_DIR + "/<service>/<key>, " + prefix + TCP_DIR + "/<service>/<key> or " + prefix
                    + SECRETS + "<VARIABLE>; it is left out");
            return;
        }
        (place[0].equals(HTTP_DIR) ? http : tcp).computeIfAbsent(place[1], s -> new TreeMap<>()).put(place[2], value);
    }

    /**
     * What a stack file's load balancer is in this layout: for each service it balances and accepts (those with a
     * problem are left out, so that their keys in etcd stay as they are), its directory's keys relative to the
     * load balancer's subtree ({@code services/web/balance}) with their values, as the orchestrator wrote them:
     * {@code balance} always, {@code virtual_path} "/" when a service has neither hosts nor paths, a TCP service's
     * {@code external_port}, and one {@code upstreams/<service>-<n>} per instance listed.
     *
     * A service of a named stack is named {@code <stack>-<service>} there, as Kontena named it.
     *
     * @param config the stack's translation for that load balancer
     * @return service directory ({@code services/web/}) -> its keys, in the stack's order of services
     */
    public static Map<String, Map<String, String>> keysOf(Stack stack, LbConfig config) {
        Map<String, Map<String, String>> dirs = new LinkedHashMap<>();
        for (HttpService s : config.http()) {
            Map<String, String> keys = withHealthCheck(variables(stack, s.name(), HTTP_KEYS), stack, s.name());
            keys.putIfAbsent(BALANCE, "roundrobin");
            if (!keys.containsKey("virtual_hosts") && !keys.containsKey("virtual_path")) {
                keys.put("virtual_path", "/");
            }
            dirs.put(HTTP_DIR + "/" + serviceName(stack, s.name()) + "/", withUpstreams(keys, s.name(), s.upstreams()));
        }
        for (TcpService s : config.tcp()) {
            Map<String, String> keys = withHealthCheck(variables(stack, s.name(), TCP_KEYS), stack, s.name());
            keys.putIfAbsent(BALANCE, "roundrobin");
            keys.putIfAbsent("external_port", Integer.toString(ServiceVariables.DEFAULT_EXTERNAL_PORT));
            dirs.put(TCP_DIR + "/" + serviceName(stack, s.name()) + "/", withUpstreams(keys, s.name(), s.upstreams()));
        }
        return dirs;
    }

    /**
     * The service's KONTENA_LB_* variables that are keys of the layout, as keys; those it maps from the vault as
     * their mappings, {@code secrets/<VARIABLE>}, so that the values stay sealed in the vault and a change there
     * reaches the load balancers.
     */
    private static Map<String, String> variables(Stack stack, String name, Set<String> valid) {
        StackService service = stack.service(name).orElseThrow();
        Map<String, String> mapped = mappings(service, ref -> serviceSecretsProblem(valid, ref.name(), ref.secret())
                == null);
        Map<String, String> keys = new TreeMap<>();
        service.environment().forEach((variable, value) -> {
            if (variable.startsWith(ServiceVariables.PREFIX) && !mapped.containsKey(variable)) {
                String key = variable.substring(ServiceVariables.PREFIX.length()).toLowerCase(Locale.ROOT);
                if (valid.contains(key)) {
                    keys.put(key, value);
                }
            }
        });
        mapped.forEach((variable, secrets) -> keys.put(SECRETS + variable, secrets));
        return keys;
    }

    /** The service's health_check: fields that the layout has keys for, as keys. */
    private static Map<String, String> withHealthCheck(Map<String, String> keys, Stack stack, String name) {
        stack.service(name).orElseThrow().healthCheck().forEach((field, value) -> {
            if (HEALTH_CHECK_FIELDS.contains(field)) {
                keys.put(HEALTH_CHECK_PREFIX + field, value);
            }
        });
        return keys;
    }

    private static Map<String, String> withUpstreams(Map<String, String> keys, String service,
                                                     List<Upstream> upstreams) {
        for (int i = 0; i < upstreams.size(); i++) {
            keys.put(UPSTREAMS + "/" + service + "-" + (i + 1), upstreams.get(i).toString());
        }
        return keys;
    }

    private Optional<StackService> service(String name, Mode mode, Map<String, String> dir) {
        String dirKey = serviceDir(lb, mode == Mode.TCP, name);
        if (http.containsKey(name) && tcp.containsKey(name)) {
            if (mode == Mode.HTTP) {
                problems.add(name, dirKey, "", "the service is under both " + HTTP_DIR + "/ and " + TCP_DIR
                        + "/; a service is balanced either as HTTP or as TCP: remove one of the two directories");
            }
            return Optional.empty();
        }
        if (!dir.containsKey(BALANCE)) {
            // As the orchestrator and publish write it; instances that register into a directory that is not (or no
            // longer) a service's must not make it one, answering every request with the defaults.
            problems.add(name, dirKey + BALANCE, "", "missing: a service's directory has a balance key, written with "
                    + "its other keys (by publish, or Kontena's orchestrator); without one, its "
                    + dir.size() + " key(s) are not served");
            return Optional.empty();
        }
        Set<String> valid = mode == Mode.HTTP ? HTTP_KEYS : TCP_KEYS;
        Map<String, String> env = new LinkedHashMap<>();
        env.put(ServiceVariables.MODE, mode == Mode.HTTP ? "http" : "tcp");
        List<String> upstreams = new ArrayList<>();
        Map<String, String> healthCheck = new LinkedHashMap<>();
        boolean bad = false;
        for (Map.Entry<String, String> kv : dir.entrySet()) {
            String key = kv.getKey();
            if (key.startsWith(UPSTREAMS + "/") && key.indexOf('/', UPSTREAMS.length() + 1) < 0
                    && key.length() > UPSTREAMS.length() + 1) {
                upstreams.add(kv.getValue().trim());
                keyOfVariable.put(name + "\n" + UPSTREAMS + "\n" + kv.getValue().trim(), dirKey + key);
            } else if (valid.contains(key)) {
                String variable = ServiceVariables.PREFIX + key.toUpperCase(Locale.ROOT);
                env.put(variable, kv.getValue());
                keyOfVariable.put(name + "\n" + variable, dirKey + key);
            } else if (key.startsWith(SECRETS)) {
                // the source puts a good mapping's value in its place; one left here is bad, or was not resolved
                String problem = serviceSecretsProblem(valid, key.substring(SECRETS.length()), kv.getValue());
                problems.add(name, dirKey + key, kv.getValue(), problem != null ? problem
                        : "the secrets it maps were not read from the vault; the service is not served without them");
                bad = true;
            } else if (key.startsWith(HEALTH_CHECK_PREFIX)
                    && HEALTH_CHECK_FIELDS.contains(key.substring(HEALTH_CHECK_PREFIX.length()))) {
                String field = key.substring(HEALTH_CHECK_PREFIX.length());
                healthCheck.put(field, kv.getValue());
                keyOfVariable.put(name + "\n" + HealthCheckSettings.FIELD + "." + field, dirKey + key);
            } else {
                problems.add(name, dirKey + key, kv.getValue(), (key.startsWith(UPSTREAMS)
                        ? "an upstream is one key, " + dirKey + UPSTREAMS + "/<instance>, with the value <ip>:<port>"
                        : "unknown key") + "; the keys of a" + (mode == Mode.HTTP ? "n HTTP" : " TCP") + " service are: "
                        + String.join(", ", new TreeSet<>(valid)) + ", " + HEALTH_CHECK_PREFIX + "{"
                        + String.join(",", HEALTH_CHECK_FIELDS) + "}, " + UPSTREAMS + "/<instance>"
                        + Suggestions.closest(key, valid).map(k -> "; did you mean " + k + "?").orElse(""));
                bad = true;
            }
        }
        if (bad) {
            return Optional.empty();
        }
        return Optional.of(new StackService(name, "", env, List.of(Link.of(lb)), List.of(), upstreams, List.of(),
                healthCheck));
    }
}
