package io.kontena.lb.cli;

import static io.kontena.lb.etcd.EtcdCalls.bytes;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.kontena.lb.config.LbConfig;
import io.kontena.lb.config.Problem;
import io.kontena.lb.kontena.EtcdLayout;
import io.kontena.lb.kontena.Stack;
import io.kontena.lb.kontena.Translator;
import io.kontena.lb.source.VaultSecrets;
import io.kontena.lb.etcd.EtcdCalls;
import io.kontena.lb.vault.EtcdSecretStore;
import io.kontena.lb.vault.FileSecretStore;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "publish", mixinStandardHelpOptions = true,
        description = {"Writes the services that a load balancer of a stack file balances into etcd,",
                "where load balancers started with 'run --etcd' read them: each service's keys",
                "in one transaction. The load balancer's subtree is the file's: services it no",
                "longer balances are removed. A service with a problem is left in etcd as it was,",
                "and the problem printed (exit status 1). Instances registered with 'register'",
                "are left as they are. secrets: entries, the load balancer's and those of services",
                "to KONTENA_LB_* variables, are written as secrets/<VARIABLE> keys, their values",
                "staying in the vault in etcd (key: $" + FileSecretStore.KEY_VARIABLE + "), where the load",
                "balancers read them."})
final class PublishCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--stack", required = true, paramLabel = "FILE", description = "Kontena stack file (kontena.yml).")
    Path stack;

    @Option(names = "--lb", paramLabel = "NAME",
            description = "The load balancer service of the stack file; may be left out when it has one.")
    String lb;

    @Option(names = "--etcd", paramLabel = "URL", split = ",",
            description = "etcd's client URL(s), comma-separated (default: $" + SourceOptions.ETCD_VARIABLE + ").")
    List<String> etcd;

    @Override
    public Integer call() throws Exception {
        List<String> endpoints = SourceOptions.etcdUrls(etcd, spec);
        // its certificates decide whether TLS services are valid
        VaultSecrets.Resolved resolved = SourceOptions.readStack(stack,
                () -> EtcdSecretStore.open(endpoints, System.getenv()));
        Stack read = resolved.stack();
        // as the load balancers read it: a service's instances may all register themselves, none listed here
        LbConfig config = resolved.finish(Translator.translateRegistered(read, Optional.ofNullable(lb)));
        String lbService = lb != null ? lb.substring(lb.lastIndexOf('/') + 1) : Translator.loadBalancers(read).get(0);
        String lbName = EtcdLayout.lbName(read, lbService);
        String prefix = EtcdLayout.prefix(lbName);
        List<Problem> serviceProblems = new ArrayList<>();
        Set<String> rejected = new HashSet<>();
        for (Problem p : config.problems()) {
            if (p.subject().equals(lbService)) {
                // its own settings are its environment's, on each load balancer, but for the secrets it maps
                spec.commandLine().getErr().println("note, of the load balancer itself: " + p);
            } else {
                serviceProblems.add(p);
                rejected.add(EtcdLayout.serviceName(read, p.subject()));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Client client = EtcdCalls.client(endpoints)) {
            KV kv = client.getKVClient();
            Map<String, KeyValue> present = new HashMap<>();
            EtcdCalls.read(client, prefix, endpoints).getKvs()
                    .forEach(pair -> present.put(pair.getKey().toString(StandardCharsets.UTF_8), pair));
            Map<String, Map<String, String>> dirs = new LinkedHashMap<>(EtcdLayout.keysOf(read, config));
            Map<String, String> secrets = EtcdLayout.secretKeysOf(read.service(lbService).orElseThrow());
            if (!secrets.isEmpty() || present.keySet().stream().anyMatch(
                    k -> k.startsWith(prefix + EtcdLayout.SECRETS))) {
                dirs.put(EtcdLayout.SECRETS, secrets);
            }
            for (Map.Entry<String, Map<String, String>> dir : dirs.entrySet()) {
                int changed = write(kv, prefix + dir.getKey(), dir.getValue(), present, endpoints);
                out.printf("%s%s: %s%n", prefix, dir.getKey(),
                        changed == 0 ? "unchanged" : changed + " key(s) written or removed");
            }
            for (String old : EtcdLayout.serviceDirs(lbName, present.keySet())) {
                String name = EtcdLayout.serviceOf(old);
                if (!dirs.containsKey(old) && !rejected.contains(name)) {
                    EtcdCalls.await(kv.delete(bytes(prefix + old), DeleteOption.builder().isPrefix(true).build()),
                            "remove " + prefix + old, endpoints);
                    out.printf("%s%s: removed%n", prefix, old);
                }
            }
        }
        for (Problem p : serviceProblems) {
            spec.commandLine().getErr().println("not published: " + p);
        }
        return serviceProblems.isEmpty() ? 0 : 1;
    }


    /**
     * Makes one service's directory hold {@code keys}, in one transaction: the keys that changed are put, those no
     * longer given deleted. Keys on a lease, the instances {@code register} keeps, are neither deleted nor
     * overwritten: they come and go with their instances.
     *
     * @return how many keys were put or deleted
     */
    private static int write(KV kv, String dir, Map<String, String> keys, Map<String, KeyValue> present,
                             List<String> endpoints) {
        List<Op> ops = new ArrayList<>();
        keys.forEach((key, value) -> {
            KeyValue now = present.get(dir + key);
            if (now == null || now.getLease() == 0 && !value.equals(now.getValue().toString(StandardCharsets.UTF_8))) {
                ops.add(Op.put(bytes(dir + key), bytes(value), PutOption.DEFAULT));
            }
        });
        present.forEach((key, now) -> {
            if (key.startsWith(dir) && now.getLease() == 0 && !keys.containsKey(key.substring(dir.length()))) {
                ops.add(Op.delete(bytes(key), DeleteOption.DEFAULT));
            }
        });
        if (!ops.isEmpty()) {
            EtcdCalls.await(kv.txn().Then(ops.toArray(Op[]::new)).commit(), "write " + dir, endpoints);
        }
        return ops.size();
    }
}
