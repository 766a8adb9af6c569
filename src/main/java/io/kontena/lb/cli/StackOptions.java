package io.kontena.lb.cli;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.Stack;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.source.VaultSecrets;
import io.kontena.lb.vault.FileSecretStore;
import io.kontena.lb.vault.SecretStore;
import io.kontena.lb.vault.VaultException;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Which stack file and which load balancer service of it; shared by the commands that read one. */
final class StackOptions {
    @Option(names = "--stack", required = true, paramLabel = "FILE", description = "Kontena stack file (kontena.yml).")
    Path stack;

    @Option(names = "--lb", paramLabel = "NAME",
            description = "The load balancer service of the stack file to run; may be left out when there is one.")
    String lb;

    @Option(names = "--vault", paramLabel = "FILE",
            description = "The vault that secrets: entries are read from (default: $" + FileSecretStore.PATH_VARIABLE
                    + ", else ~/.kontena-lb/vault.json).")
    Path vault;

    /** The vault this stack file's secrets: entries are read from. */
    SecretStore openVault() {
        return FileSecretStore.open(Optional.ofNullable(vault), System.getenv());
    }

    /** Reads and translates the stack file; a file that cannot be used throws a ConfigException. */
    LbConfig load() {
        Stack read = StackFile.read(stack);
        if (VaultSecrets.needed(read)) {
            // the secrets: entries resolve from the vault run would use, so that the certificates shown are its
            try (SecretStore secrets = openVault()) {
                read = VaultSecrets.resolve(read, secrets);
            } catch (VaultException e) {
                throw new ConfigException("cannot read the secrets of " + stack + " from the vault: "
                        + e.getMessage(), e);
            }
        }
        return Translator.translate(read, Optional.ofNullable(lb));
    }
}
