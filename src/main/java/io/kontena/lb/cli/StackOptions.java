package io.kontena.lb.cli;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
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

    /** Reads and translates the stack file; a file that cannot be used throws a ConfigException. */
    LbConfig load() {
        return Translator.translate(StackFile.read(stack), Optional.ofNullable(lb));
    }
}
