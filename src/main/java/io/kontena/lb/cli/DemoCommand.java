package io.kontena.lb.cli;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Upstream;
import io.kontena.lb.demo.WhoAmI;
import io.kontena.lb.proxy.Transport;
import io.kontena.lb.source.StackFileSource;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs a load balancer of a stack file together with demo upstreams: a 'whoami'",
                "server on every loopback upstream address of the file, which answers with its",
                "instance name and the request it received."})
final class DemoCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DemoCommand.class);

    @Option(names = "--stack", paramLabel = "FILE", defaultValue = "examples/kontena.yml",
            description = "Kontena stack file (default: ${DEFAULT-VALUE}).")
    Path stack;

    @Option(names = "--lb", paramLabel = "NAME", description = "The load balancer service to run.")
    String lb;

    @Mixin
    ProxyOptions proxy = new ProxyOptions();

    @Override
    public Integer call() throws Exception {
        return RunCommand.serve(watcher -> new StackFileSource(stack, Optional.ofNullable(lb), watcher), proxy,
                new HandoverOptions(), DemoCommand::startUpstreams);
    }

    private static void startUpstreams(LbConfig config) {
        EventLoopGroup loops = Transport.eventLoops(1, "whoami");
        Map<Integer, String> instances = new LinkedHashMap<>();
        Stream.concat(
                config.http().stream().map(s -> Map.entry(s.name(), s.upstreams())),
                config.tcp().stream().map(s -> Map.entry(s.name(), s.upstreams())))
                .forEach(e -> addLoopback(instances, e.getKey(), e.getValue()));
        instances.forEach((port, name) -> {
            try {
                WhoAmI.start(name, "127.0.0.1", port, loops);
            } catch (Exception e) { // a failed bind arrives as a checked exception, thrown unchecked by Netty
                throw new IllegalStateException("cannot start the whoami instance " + name + " on 127.0.0.1:" + port
                        + ": " + e.getMessage() + "; is something else using the port?", e);
            }
            log.info("whoami instance {} on 127.0.0.1:{}", name, port);
        });
    }

    private static void addLoopback(Map<Integer, String> instances, String service, List<Upstream> upstreams) {
        int n = 1;
        for (Upstream u : upstreams) {
            if (u.host().equals("127.0.0.1") || u.host().equals("localhost")) {
                instances.putIfAbsent(u.port(), service + "-" + n);
            }
            n++;
        }
    }
}
