package io.kontena.lb.cli;

import static io.kontena.lb.etcd.EtcdCalls.bytes;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.EtcdLayout;
import io.kontena.lb.etcd.EtcdCalls;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

@Command(name = "register", mixinStandardHelpOptions = true,
        description = {"Registers one instance of a published service with the load balancers that",
                "read etcd, for as long as this command runs: its key lives on a lease that the",
                "command keeps alive. Stopped (SIGTERM, SIGINT), it removes the key at once;",
                "killed, or cut off from etcd, the key expires after --ttl seconds. Either way",
                "the load balancers send the instance no new work and let what it has finish."})
final class RegisterCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RegisterCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--etcd", paramLabel = "URL", split = ",",
            description = "etcd's client URL(s), comma-separated (default: $" + SourceOptions.ETCD_VARIABLE + ").")
    List<String> etcd;

    @Option(names = "--lb", required = true, paramLabel = "NAME",
            description = "The load balancer in etcd: 'name', or 'stack/name' for one of a stack.")
    String lb;

    @Option(names = "--service", required = true, paramLabel = "NAME",
            description = "The service as named in etcd ('<stack>-<service>' for one of a stack).")
    String service;

    @Option(names = "--tcp", description = "The service is a TCP service (tcp-services/).")
    boolean tcp;

    @Option(names = "--instance", required = true, paramLabel = "NAME", description = "This instance's name.")
    String instance;

    @Option(names = "--address", required = true, paramLabel = "HOST[:PORT]",
            description = "Where the load balancers reach this instance (port 80 when left out).")
    String address;

    @Option(names = "--ttl", paramLabel = "SECONDS", defaultValue = "10",
            description = "How long the key outlives this command when it cannot remove it (default: ${DEFAULT-VALUE}).")
    long ttl;

    @Override
    public Integer call() throws Exception {
        List<String> endpoints = SourceOptions.etcdUrls(etcd, spec);
        checkOptions();
        String key = EtcdLayout.upstreamKey(lb, tcp, service, instance);
        String dir = EtcdLayout.serviceDir(lb, tcp, service);
        // Renewed three times per TTL, each renewal given a third of it, so that one that fails does not let the
        // key expire while etcd is up.
        Duration renewEvery = Duration.ofMillis(ttl * 1000 / 3);
        try (Client client = EtcdCalls.client(endpoints)) {
            CountDownLatch stop = new CountDownLatch(1);
            Signal.handle(new Signal("TERM"), s -> stop.countDown());
            Signal.handle(new Signal("INT"), s -> stop.countDown());
            long lease = grant(client, key, endpoints, EtcdCalls.TIMEOUT);
            if (!putIfMissing(client, key, dir, lease, endpoints, EtcdCalls.TIMEOUT)) {
                throw new IllegalArgumentException("no service is published at " + dir + "; publish it first "
                        + "('publish --stack FILE'), or check --lb, --service and --tcp");
            }
            log.info("registered {} = {} (lease {} s)", key, address, ttl);
            while (!stop.await(renewEvery.toMillis(), TimeUnit.MILLISECONDS)) {
                lease = renew(client, key, dir, lease, endpoints, renewEvery);
            }
            EtcdCalls.await(client.getLeaseClient().revoke(lease), "remove " + key, endpoints);
            log.info("unregistered {}", key);
        }
        return 0;
    }

    private void checkOptions() {
        for (String name : List.of(service, instance)) {
            if (name.isBlank() || name.contains("/")) {
                throw mistake("'" + name + "' is not a name: it must be one key of the layout, without '/'");
            }
        }
        if (ttl < 2) {
            throw mistake("--ttl " + ttl + ": give at least 2 seconds, so that the lease can be renewed in time");
        }
        try {
            address = EtcdLayout.upstreamValue(address);
        } catch (IllegalArgumentException e) {
            throw mistake("--address " + address + ": " + e.getMessage());
        }
    }

    /**
     * Puts the key on the lease unless it is there, in one transaction that also checks the service is published
     * (its directory's balance key exists): an instance never makes a directory a service by itself.
     *
     * @return false when the service is not published
     */
    private boolean putIfMissing(Client client, String key, String dir, long lease, List<String> endpoints,
                                 Duration timeout) {
        TxnResponse r = EtcdCalls.await(client.getKVClient().txn()
                .If(new Cmp(bytes(dir + EtcdLayout.BALANCE), Cmp.Op.GREATER, CmpTarget.version(0)))
                .Then(Op.txn(new Cmp[] {new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.version(0))},
                        new Op[] {Op.put(bytes(key), bytes(address), PutOption.builder().withLeaseId(lease).build())},
                        new Op[0]))
                .commit(), "write " + key, endpoints, timeout);
        return r.isSucceeded();
    }

    /**
     * Renews the lease, and puts the key again if it is gone (a publish that removed the service and then brought it
     * back); a lease that expired meanwhile (etcd was away for longer than the TTL) is replaced by a new one. While
     * etcd cannot be reached this only logs, and tries again at the next renewal.
     */
    private long renew(Client client, String key, String dir, long lease, List<String> endpoints, Duration timeout) {
        try {
            if (expired(client, key, lease, endpoints, timeout)) {
                lease = grant(client, key, endpoints, timeout);
                log.warn("the lease of {} had expired: registering again", key);
            }
            if (!putIfMissing(client, key, dir, lease, endpoints, timeout)) {
                log.warn("no service is published at {} any more: {} waits for it", dir, key);
            }
        } catch (ConfigException e) {
            log.warn("{}; trying again", e.getMessage());
        }
        return lease;
    }

    /** Renews the lease; whether it had expired already (etcd no longer knows it, or gives it no time left). */
    private static boolean expired(Client client, String key, long lease, List<String> endpoints, Duration timeout) {
        try {
            LeaseKeepAliveResponse r = EtcdCalls.await(client.getLeaseClient().keepAliveOnce(lease),
                    "renew the lease of " + key, endpoints, timeout);
            return r.getTTL() <= 0;
        } catch (ConfigException e) {
            if (EtcdCalls.notFound(e)) {
                return true;
            }
            throw e;
        }
    }

    private long grant(Client client, String key, List<String> endpoints, Duration timeout) {
        return EtcdCalls.await(client.getLeaseClient().grant(ttl), "grant a lease for " + key, endpoints, timeout)
                .getID();
    }

    private ParameterException mistake(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
