package io.kontena.lb.testing;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Runs a blocking step of a test (a request an upstream holds, a read that waits) on a thread of its own. The
 * default executor of {@link CompletableFuture} has a single thread on 2 CPUs since Java 25, and two such steps
 * would then wait on each other.
 */
public final class Background {
    private Background() {
    }

    public static <T> CompletableFuture<T> supply(Supplier<T> step) {
        return CompletableFuture.supplyAsync(step, Background::start);
    }

    public static CompletableFuture<Void> run(Runnable step) {
        return CompletableFuture.runAsync(step, Background::start);
    }

    private static void start(Runnable task) {
        Thread t = new Thread(task, "test-background");
        t.setDaemon(true);
        t.start();
    }
}
