package io.kontena.lb.balance;

import io.kontena.lb.config.Upstream;

import java.net.Inet6Address;
import java.net.InetAddress;

/** The hash functions of source balancing: cheap, well mixed, and stable across runs and JVMs. */
final class Hashing {
    private Hashing() {
    }

    /** SplitMix64's finaliser: every input bit affects every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** From the upstream's address only (not String.hashCode of an object), so it is the same in every JVM. */
    static long seedOf(Upstream upstream) {
        String s = upstream.toString();
        long h = 0xCBF29CE484222325L; // FNV-1a 64
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * 0x100000001B3L;
        }
        return mix(h);
    }

    /**
     * InetAddress.hashCode is the IPv4 address itself, and for IPv6 a sum over the address, both computed
     * without allocating (getAddress() would copy the bytes on every request).
     */
    static long keyOf(InetAddress client) {
        if (client == null) {
            return mix(0);
        }
        long family = client instanceof Inet6Address ? 6L << 32 : 4L << 32;
        return mix(family | (client.hashCode() & 0xFFFFFFFFL));
    }

    /** Rendezvous weight of one endpoint for one client: the highest wins. */
    static long score(long clientKey, long seed) {
        return mix(clientKey ^ seed);
    }
}
