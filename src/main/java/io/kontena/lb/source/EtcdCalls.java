package io.kontena.lb.source;

import io.etcd.jetcd.ByteSequence;
import io.kontena.lb.kontena.ConfigException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waiting for etcd's answers, with one clear error when there is none. */
public final class EtcdCalls {
    /** How long an answer may take: the client retries meanwhile, so an etcd that is away fails after this. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    private EtcdCalls() {
    }

    /**
     * Waits for an answer from etcd.
     *
     * @param what      what was asked, for the error: "read /kontena/haproxy/lb/"
     * @param endpoints where etcd was asked
     * @throws ConfigException naming what, where and why, when etcd fails the call or does not answer in time
     */
    public static <T> T await(CompletableFuture<T> call, String what, List<String> endpoints) {
        try {
            return call.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigException("interrupted while waiting to " + what + " in etcd", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new ConfigException("cannot " + what + " in etcd at " + String.join(",", endpoints) + ": "
                    + (cause instanceof TimeoutException ? "no answer within " + TIMEOUT.toSeconds() + " s"
                    : cause.getMessage()) + "; check that etcd runs there and that the address is its client URL", e);
        }
    }

    public static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
