package io.kontena.lb.cli;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.kontena.lb.kontena.ConfigException;
import io.kontena.lb.kontena.EtcdLayout;
import io.kontena.lb.source.EtcdCalls;
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
        List<String> endpoints;
        try {
            endpoints = SourceOptions.etcdUrls(etcd);
        } catch (IllegalArgumentException e) {
            throw mistake((etcd == null ? "give " : "") + e.getMessage());
        }
        checkOptions();
        String key = EtcdLayout.upstreamKey(lb, tcp, service, instance);
        try (Client client = Client.builder().endpoints(endpoints.toArray(String[]::new)).build()) {
            String dir = EtcdLayout.serviceDir(lb, tcp, service);
            if (EtcdCalls.await(client.getKVClient().get(bytes(dir),
                    GetOption.builder().isPrefix(true).withCountOnly(true).build()), "read " + dir, endpoints)
                    .getCount() == 0) {
                throw new IllegalArgumentException("no service is published at " + dir + "; publish it first "
                        + "('publish --stack FILE'), or check --lb, --service and --tcp");
            }
            CountDownLatch stop = new CountDownLatch(1);
            Signal.handle(new Signal("TERM"), s -> stop.countDown());
            Signal.handle(new Signal("INT"), s -> stop.countDown());
            long lease = register(client, key, endpoints);
            log.info("registered {} = {} (lease {} s)", key, address, ttl);
            // Renewed three times per TTL, so that one missed renewal does not let the key expire.
            while (!stop.await(Math.max(1, ttl * 1000 / 3), TimeUnit.MILLISECONDS)) {
                lease = renew(client, key, lease, endpoints);
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

    /** Grants a lease and puts the key on it. */
    private long register(Client client, String key, List<String> endpoints) {
        long lease = EtcdCalls.await(client.getLeaseClient().grant(ttl), "grant a lease for " + key, endpoints)
                .getID();
        EtcdCalls.await(client.getKVClient().put(bytes(key), bytes(address),
                PutOption.builder().withLeaseId(lease).build()), "write " + key, endpoints);
        return lease;
    }

    /**
     * Renews the lease; when it expired meanwhile (etcd was away longer than the TTL), registers anew. While etcd
     * cannot be reached this only logs, and tries again at the next renewal.
     */
    private long renew(Client client, String key, long lease, List<String> endpoints) {
        try {
            LeaseKeepAliveResponse r = EtcdCalls.await(client.getLeaseClient().keepAliveOnce(lease),
                    "renew the lease of " + key, endpoints);
            if (r.getTTL() > 0) {
                return lease;
            }
        } catch (ConfigException e) {
            if (!e.getMessage().contains("lease not found")) {
                log.warn("{}; trying again", e.getMessage());
                return lease;
            }
        }
        try {
            long renewed = register(client, key, endpoints);
            log.warn("the lease of {} had expired: registered again", key);
            return renewed;
        } catch (ConfigException e) {
            log.warn("{}; trying again", e.getMessage());
            return lease;
        }
    }

    private ParameterException mistake(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private static ByteSequence bytes(String s) {
        return EtcdCalls.bytes(s);
    }
}
