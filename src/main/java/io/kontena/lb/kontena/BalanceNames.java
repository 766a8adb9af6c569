package io.kontena.lb.kontena;

import io.kontena.lb.config.Balance;
import java.util.Locale;
import java.util.Optional;

/** HAProxy's names for the balancing algorithms, as KONTENA_LB_BALANCE and a {@code balance} line use them. */
final class BalanceNames {
    static final String VALID = "roundrobin, source or leastconn";

    private BalanceNames() {
    }

    static Optional<Balance> parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "roundrobin" -> Optional.of(Balance.ROUND_ROBIN);
            case "source" -> Optional.of(Balance.SOURCE);
            // The seed document spells it "leastcon"; both are accepted.
            case "leastconn", "leastcon" -> Optional.of(Balance.LEAST_CONN);
            default -> Optional.empty();
        };
    }
}
