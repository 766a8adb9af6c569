package io.kontena.lb.cli;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.EtcdLayout;
import io.kontena.lb.kontena.LoadBalancerVariables;
import io.kontena.lb.kontena.PortMapping;
import io.kontena.lb.kontena.Stack;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.source.ConfigSource;
import io.kontena.lb.source.ConfigWatcher;
import io.kontena.lb.source.EtcdSource;
import io.kontena.lb.source.StackFileSource;
import io.kontena.lb.source.VaultSecrets;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore;
import io.kontena.lb.vault.VaultException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where the configuration comes from, a stack file or etcd, and which load balancer of it; shared by the commands
 * that read one.
 */
final class SourceOptions {
    /** The etcd address Kontena gave a load balancer container. */
    static final String ETCD_VARIABLE = "ETCD_NODE";

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--stack", paramLabel = "FILE", description = "Kontena stack file (kontena.yml).")
    Path stack;

    @Option(names = "--etcd", paramLabel = "URL", split = ",",
            description = {"etcd's client URL(s), comma-separated, instead of a stack file (default: $"
                    + ETCD_VARIABLE + " when no --stack is given). The load balancer's subtree "
                    + EtcdLayout.ROOT + "NAME/ is read and watched; its own settings (SSL_CERTS, SSL_CERT_*, "
                    + "KONTENA_LB_*) come from this process's environment and from the secrets that its "
                    + EtcdLayout.SECRETS + " keys map from the vault in etcd (key: $" + FileSecretStore.KEY_VARIABLE
                    + ")."})
    List<String> etcd;

    @Option(names = "--lb", paramLabel = "NAME",
            description = {"The load balancer service: of the stack file (may be left out when it has one), or",
                    "its name in etcd, 'name' or 'stack/name' (default: $KONTENA_STACK_NAME/$KONTENA_SERVICE_NAME)."})
    String lb;

    @Option(names = {"-p", "--publish"}, paramLabel = "HOST:CONTAINER",
            description = "With --etcd: publish a container port (80 HTTP, 443 HTTPS, a TCP service's external "
                    + "port) on another port, as a stack file's ports: entry does; repeatable.")
    List<String> publish = new ArrayList<>();

    @Option(names = "--vault", paramLabel = "FILE",
            description = "The vault that secrets: entries are read from (default: $" + FileSecretStore.PATH_VARIABLE
                    + ", else ~/.kontena-lb/vault.json).")
    Path vault;

    /** The source the options name, following changes through {@code watcher}. */
    ConfigSource open(ConfigWatcher watcher) throws IOException {
        if (stack != null) {
            checkStackOnly();
            return new StackFileSource(stack, Optional.ofNullable(lb), watcher, () -> openVault(vault));
        }
        checkEtcdOnly();
        return new EtcdSource(etcdEndpoints(), etcdLb(), lbEnvironment(System.getenv()), publishedPorts(), vaultKey(),
                watcher);
    }

    /** The vault a stack file's secrets: entries are read from: {@code vault}, else the default one. */
    private static SecretStore openVault(Path vault) {
        return FileSecretStore.open(Optional.ofNullable(vault), System.getenv());
    }

    /** Reads and translates the configuration once; one that cannot be read throws a ConfigException. */
    LbConfig load() throws InterruptedException {
        if (stack == null) {
            checkEtcdOnly();
            try (EtcdSource source = new EtcdSource(etcdEndpoints(), etcdLb(), lbEnvironment(System.getenv()),
                    publishedPorts(), vaultKey(), null)) {
                return source.load();
            }
        }
        checkStackOnly();
        VaultSecrets.Resolved read = readStack(stack, () -> openVault(vault));
        return read.finish(Translator.translate(read.stack(), Optional.ofNullable(lb)));
    }

    /** The key of the vault in etcd, as this process has it. */
    static Optional<String> vaultKey() {
        return Optional.ofNullable(System.getenv(FileSecretStore.KEY_VARIABLE));
    }

    /**
     * Reads a stack file with its secrets: entries resolved from the vault that its load balancers use, so that the
     * certificates are theirs.
     */
    static VaultSecrets.Resolved readStack(Path stack, Supplier<SecretStore> vault) {
        Stack read = StackFile.read(stack);
        if (!VaultSecrets.needed(read)) {
            return new VaultSecrets.Resolved(read, List.of(), Map.of());
        }
        try (SecretStore secrets = vault.get()) {
            return VaultSecrets.resolve(read, secrets);
        } catch (VaultException e) {
            throw new ConfigException("cannot read the secrets of " + stack + " from the vault: " + e.getMessage(), e);
        }
    }

    private void checkStackOnly() {
        if (etcd != null) {
            throw mistake("--stack and --etcd are two sources; give one of them");
        }
        if (!publish.isEmpty()) {
            throw mistake("--publish is for --etcd; a stack file publishes the load balancer's "
                    + "ports with its ports: entries");
        }
    }

    private void checkEtcdOnly() {
        if (vault != null) {
            throw mistake("--vault names a vault file, for --stack; with --etcd, secrets come from the vault in "
                    + "etcd ('vault --etcd URL write NAME', key in $" + FileSecretStore.KEY_VARIABLE + ")");
        }
    }

    private List<String> etcdEndpoints() {
        try {
            return etcdUrls(etcd);
        } catch (IllegalArgumentException e) {
            throw mistake(etcd == null ? "give a stack file with --stack FILE, or " + e.getMessage() : e.getMessage());
        }
    }

    /** {@link #etcdUrls(List)}, a missing address being a usage mistake of the command {@code spec} runs. */
    static List<String> etcdUrls(List<String> given, CommandSpec spec) {
        try {
            return etcdUrls(given);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), (given == null ? "give " : "") + e.getMessage());
        }
    }

    /**
     * The URLs given with --etcd, or else those of $ETCD_NODE; a bare host:port is taken for http://host:port.
     *
     * @throws IllegalArgumentException when none is given, saying how to give one
     */
    static List<String> etcdUrls(List<String> given) {
        if (given == null) {
            String node = System.getenv(ETCD_VARIABLE);
            if (node == null || node.isBlank()) {
                throw new IllegalArgumentException("etcd's address with --etcd URL (or $" + ETCD_VARIABLE + ")");
            }
            given = List.of(node.split(","));
        }
        List<String> urls = new ArrayList<>();
        for (String url : given) {
            String u = url.trim();
            if (u.contains("://") && !u.startsWith("http://") && !u.startsWith("https://")) {
                throw new IllegalArgumentException(u + ": etcd's client URL is http://HOST:PORT, or https://HOST:PORT "
                        + "for TLS (then $ETCDCTL_CACERT, $ETCDCTL_CERT and $ETCDCTL_KEY as etcdctl reads them)");
            }
            if (!u.isEmpty()) {
                urls.add(u.contains("://") ? u : "http://" + u);
            }
        }
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("--etcd: no address given; expected a client URL such as "
                    + "http://127.0.0.1:2379");
        }
        return urls;
    }

    private String etcdLb() {
        if (lb != null) {
            return lb;
        }
        return EtcdLayout.lbName(System.getenv()).orElseThrow(() -> mistake(
                "name the load balancer with --lb NAME (its subtree in etcd is " + EtcdLayout.ROOT
                        + "NAME/), or set KONTENA_SERVICE_NAME (and KONTENA_STACK_NAME)"));
    }

    private List<PortMapping> publishedPorts() {
        List<PortMapping> ports = new ArrayList<>();
        for (String entry : publish) {
            try {
                ports.add(PortMapping.parse(entry));
            } catch (IllegalArgumentException e) {
                throw mistake("--publish " + entry + ": " + e.getMessage());
            }
        }
        return ports;
    }

    /** A usage mistake: one line pointing at the command's help, as picocli's own. */
    private ParameterException mistake(String message) {
        return new ParameterException(command.commandLine(), message);
    }

    /**
     * The settings of the load balancer service, from the environment of this process as Kontena set it for the
     * container ({@link LoadBalancerVariables#isSetting}).
     */
    static Map<String, String> lbEnvironment(Map<String, String> env) {
        Map<String, String> lb = new LinkedHashMap<>();
        env.forEach((name, value) -> {
            if (LoadBalancerVariables.isSetting(name)) {
                lb.put(name, value);
            }
        });
        return lb;
    }
}
