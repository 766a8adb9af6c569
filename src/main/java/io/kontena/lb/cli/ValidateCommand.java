package io.kontena.lb.cli;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.kontena.ConfigException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Prints the configuration that a stack file, or etcd, gives a load balancer,",
                "or every problem. Exit status 0 when valid, 1 when not."})
final class ValidateCommand implements Callable<Integer> {
    @Mixin
    SourceOptions source = new SourceOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        LbConfig config;
        try {
            config = source.load();
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("invalid: " + e.getMessage());
            return 1;
        }
        ConfigReport.print(config, spec.commandLine().getOut());
        if (!config.isValid()) {
            spec.commandLine().getErr().printf("invalid: %d problem(s)%n", config.problems().size());
            return 1;
        }
        return 0;
    }
}
