package io.kontena.lb.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.kontena.lb.kontena.ConfigException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The etcd client as the commands and the source use it: made one way, with one clear error for a failed call. */
public final class EtcdCalls {
    /** How long an answer may take: the client retries meanwhile, so an etcd that is away fails after this. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final String CHECK = "; check that etcd runs there and that the address is its client URL";

    private EtcdCalls() {
    }

    /**
     * A client of etcd at these URLs, secured as this process's environment says ({@link EtcdSecurity}: TLS for
     * {@code https://}, a client certificate, a user).
     *
     * @throws ConfigException when those settings cannot be used, saying which and why
     */
    public static Client client(List<String> endpoints) {
        ClientBuilder builder = Client.builder().endpoints(endpoints.toArray(String[]::new)).connectTimeout(TIMEOUT);
        EtcdSecurity.configure(builder, endpoints, System.getenv());
        return builder.build();
    }

    /** Every key under {@code prefix}, at one revision (the response's header has it). */
    public static GetResponse read(Client client, String prefix, List<String> endpoints) {
        return await(client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build()),
                "read " + prefix, endpoints);
    }

    /** The keys of a response with their values. */
    public static Map<String, String> keys(GetResponse response) {
        Map<String, String> keys = new HashMap<>();
        for (KeyValue kv : response.getKvs()) {
            keys.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
        }
        return keys;
    }

    /** {@link #await(CompletableFuture, String, List, Duration)} within {@link #TIMEOUT}. */
    public static <T> T await(CompletableFuture<T> call, String what, List<String> endpoints) {
        return await(call, what, endpoints, TIMEOUT);
    }

    /**
     * Waits for an answer from etcd; a call that takes longer is cancelled.
     *
     * @param what      what was asked, for the error: "read /kontena/haproxy/lb/"
     * @param endpoints where etcd was asked
     * @throws ConfigException naming what, where and why, when etcd fails the call or does not answer in time; its
     *                         cause is etcd's error, when there is one
     */
    public static <T> T await(CompletableFuture<T> call, String what, List<String> endpoints, Duration timeout) {
        try {
            return call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            call.cancel(true);
            Thread.currentThread().interrupt();
            throw new ConfigException("interrupted while waiting to " + what + " in etcd", e);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new ConfigException("cannot " + what + " in etcd at " + String.join(",", endpoints)
                    + ": no answer within " + timeout.toMillis() + " ms" + check(endpoints), e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new ConfigException("cannot " + what + " in etcd at " + String.join(",", endpoints) + ": "
                    + cause.getMessage() + (cause.getMessage() != null && cause.getMessage().startsWith("UNAVAILABLE")
                    ? check(endpoints) : CHECK), cause);
        }
    }

    /** What to check when etcd does not answer; over TLS, a handshake that fails looks the same from here. */
    private static String check(List<String> endpoints) {
        return CHECK + (endpoints.get(0).startsWith("https://") ? "; over TLS, that $" + EtcdSecurity.CA + " names the "
                + "authority that signed etcd's certificate and that $" + EtcdSecurity.CERT + " and $" + EtcdSecurity.KEY
                + " are a client certificate etcd accepts" : "");
    }

    /** Whether a failed call's cause is etcd saying it has no such thing (a lease that expired, for one). */
    public static boolean notFound(ConfigException e) {
        return e.getCause() instanceof EtcdException etcd && etcd.getErrorCode() == ErrorCode.NOT_FOUND;
    }

    public static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
