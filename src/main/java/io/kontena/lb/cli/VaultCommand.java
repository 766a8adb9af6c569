package io.kontena.lb.cli;

import io.kontena.lb.vault.EtcdSecretStore;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore;
import io.kontena.lb.vault.VaultException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code vault write|update|read|ls|rm}, as Kontena's: {@code write} makes a new secret and {@code update}
 * changes one ({@code --upsert} makes it when missing). A value of {@code -} (or none) is read from stdin.
 */
@Command(name = "vault",
        mixinStandardHelpOptions = true,
        description = {"Secrets for the load balancer (certificates, passwords), encrypted at rest: in a vault",
                "file, or with --etcd in etcd, where a fleet of load balancers ('run --etcd') reads them.",
                "The key is $" + FileSecretStore.KEY_VARIABLE + " (base64 of 32 bytes) when set, else (for a file) "
                        + "the file beside the vault named *.key, created with permissions 0600 on the first write."},
        subcommands = {
                VaultCommand.Write.class,
                VaultCommand.Update.class,
                VaultCommand.Read.class,
                VaultCommand.List.class,
                VaultCommand.Remove.class,
                CommandLine.HelpCommand.class})
public final class VaultCommand implements Runnable {

    @Option(names = "--vault", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "the vault file (default: $" + FileSecretStore.PATH_VARIABLE
                    + ", else ~/.kontena-lb/vault.json)")
    Path path;

    @Option(names = "--etcd", paramLabel = "URL", split = ",", scope = CommandLine.ScopeType.INHERIT,
            description = "the vault in etcd at these client URL(s), comma-separated, instead of a file; its key is $"
                    + FileSecretStore.KEY_VARIABLE)
    java.util.List<String> etcd;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Where a value of "-" comes from; tests put their own. */
    static InputStream stdin = System.in;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    SecretStore store() {
        if (etcd == null) {
            return FileSecretStore.open(Optional.ofNullable(path), System.getenv());
        }
        if (path != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--vault FILE and --etcd URL are two vaults; "
                    + "give one of them");
        }
        return EtcdSecretStore.open(SourceOptions.etcdUrls(etcd, spec), System.getenv());
    }

    /**
     * A PEM value starts with "-----BEGIN", which picocli would take for an unknown option: write and update take
     * it as their VALUE, so that {@code vault write www_cert "$(cat www.pem)"} works as it did with Kontena.
     */
    static void takeValuesThatLookLikeOptions(CommandLine vault) {
        for (String name : new String[] {"write", "update"}) {
            vault.getSubcommands().get(name).setUnmatchedOptionsArePositionalParams(true);
        }
    }

    static String valueOrStdin(String name, String value) {
        String v = value;
        if (v == null || v.equals("-")) {
            try {
                v = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new VaultException("cannot read the value from standard input: " + e.getMessage(), e);
            }
            // what `echo` and `$(cat file)` would have dropped
            if (v.endsWith("\n")) {
                v = v.substring(0, v.length() - (v.endsWith("\r\n") ? 2 : 1));
            }
        }
        if (v.isEmpty()) {
            throw new VaultException("no value given for secret '" + name + "'");
        }
        return v;
    }

    @Command(name = "write", description = "Create a secret; fails when it exists (see update).")
    static final class Write implements Runnable {
        @ParentCommand
        VaultCommand vault;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "VALUE", arity = "0..1", description = "the value; '-' or none reads stdin")
        String value;

        @Override
        public void run() {
            try (SecretStore store = vault.store()) {
                store.write(name, valueOrStdin(name, value), SecretStore.WriteMode.CREATE);
            }
        }
    }

    @Command(name = "update", description = "Change a secret's value; fails when it does not exist, unless --upsert.")
    static final class Update implements Runnable {
        @ParentCommand
        VaultCommand vault;
        @Option(names = {"-u", "--upsert"}, description = "create the secret when it does not exist")
        boolean upsert;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "VALUE", arity = "0..1", description = "the value; '-' or none reads stdin")
        String value;

        @Override
        public void run() {
            try (SecretStore store = vault.store()) {
                store.write(name, valueOrStdin(name, value),
                        upsert ? SecretStore.WriteMode.UPSERT : SecretStore.WriteMode.REPLACE);
            }
        }
    }

    @Command(name = "read", description = "Print a secret's value.")
    static final class Read implements Runnable {
        @ParentCommand
        VaultCommand vault;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            try (SecretStore store = vault.store()) {
                String secret = store.read(name).orElseThrow(() -> new VaultException.NoSuchSecret(name));
                vault.spec.commandLine().getOut().println(secret);
            }
        }
    }

    @Command(name = "ls", aliases = "list", description = "List the secrets' names.")
    static final class List implements Runnable {
        @ParentCommand
        VaultCommand vault;

        @Override
        public void run() {
            try (SecretStore store = vault.store()) {
                store.list().forEach(vault.spec.commandLine().getOut()::println);
            }
        }
    }

    @Command(name = "rm", aliases = "remove", description = "Remove a secret.")
    static final class Remove implements Runnable {
        @ParentCommand
        VaultCommand vault;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            try (SecretStore store = vault.store()) {
                if (!store.remove(name)) {
                    throw new VaultException.NoSuchSecret(name);
                }
            }
        }
    }
}
