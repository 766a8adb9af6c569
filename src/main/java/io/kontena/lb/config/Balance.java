package io.kontena.lb.config;

/** How a service spreads requests or connections over its upstreams. */
public enum Balance {
    /** Each upstream in turn. */
    ROUND_ROBIN,
    /** The same client IP goes to the same upstream while that upstream stays. */
    SOURCE,
    /** The upstream with the fewest open requests or connections. */
    LEAST_CONN
}
