package io.kontena.lb.jmh;

import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.kontena.StackFile;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.proxy.ProxyRuntime;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Applying a stack file of 10,000 HTTP services (each with its own virtual host and two upstreams) to a running
 * load balancer: parsing, translating and moving the data plane to it, in a JVM whose heap is capped at 512 MB.
 * {@code first} applies it to a load balancer serving nothing yet (every upstream group and route is new);
 * {@code change} applies it to one serving the same services with other upstreams (every group changes).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
@Warmup(iterations = 5)
@Measurement(iterations = 10)
public class ConfigApplyBenchmark {
    static final int SERVICES = 10_000;

    @State(Scope.Benchmark)
    public static class Texts {
        final String stack = stackFile(SERVICES, 1);
        final String changed = stackFile(SERVICES, 2);
    }

    /** A load balancer serving nothing yet, new for each measurement. */
    @State(Scope.Thread)
    public static class Empty {
        ProxyRuntime runtime;

        @Setup(Level.Iteration)
        public void start() {
            runtime = new ProxyRuntime(new ProxyRuntime.Settings("127.0.0.1", 1, false, Duration.ZERO, 0));
        }

        @TearDown(Level.Iteration)
        public void stop() {
            runtime.close();
        }
    }

    /** A load balancer serving the services with other upstreams, new for each measurement. */
    @State(Scope.Thread)
    public static class Serving extends Empty {
        @Setup(Level.Iteration)
        public void serve(Texts texts) {
            apply(runtime, texts.changed);
        }
    }

    @Benchmark
    public List<Problem> first(Texts texts, Empty lb) {
        return apply(lb.runtime, texts.stack);
    }

    @Benchmark
    public List<Problem> change(Texts texts, Serving lb) {
        return apply(lb.runtime, texts.stack);
    }

    static List<Problem> apply(ProxyRuntime runtime, String text) {
        LbConfig config = Translator.translate(StackFile.parse(text, "bench.yml"), Optional.empty());
        if (config.http().size() != SERVICES) {
            throw new IllegalStateException("expected " + SERVICES + " services, got " + config.http().size()
                    + ": " + config.problems());
        }
        List<Problem> problems = runtime.apply(config);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("not applied: " + problems);
        }
        return problems;
    }

    /** A stack file of n services linked to one load balancer, listening on a port of the system's choice. */
    static String stackFile(int n, int upstreamVariant) {
        StringBuilder b = new StringBuilder(n * 200);
        b.append("stack: bench\nservices:\n  lb:\n    image: kontena/lb:latest\n    ports: [\"0:80\"]\n");
        for (int i = 0; i < n; i++) {
            b.append("  s").append(i).append(":\n    image: web\n    environment:\n")
                    .append("      KONTENA_LB_VIRTUAL_HOSTS: s").append(i).append(".bench.test\n")
                    .append("      KONTENA_LB_INTERNAL_PORT: \"8080\"\n")
                    .append("    links: [lb]\n")
                    .append("    upstreams: [\"10.").append(upstreamVariant).append('.').append(i / 250).append('.')
                    .append(i % 250 + 1).append(":8080\", \"10.").append(upstreamVariant + 100).append('.')
                    .append(i / 250).append('.').append(i % 250 + 1).append(":8080\"]\n");
        }
        return b.toString();
    }
}
