package io.kontena.lb.kontena;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** HAProxy's time syntax: a number with an optional unit (us, ms, s, m, h, d); no unit means milliseconds. */
final class HaproxyTime {
    static final String EXPECTED = "expected a number with an optional unit us, ms, s, m, h or d "
            + "(no unit means milliseconds), for example 500ms, 30s or 2m";
    private static final Pattern TIME = Pattern.compile("([0-9]{1,9})(us|ms|s|m|h|d)?");

    private HaproxyTime() {
    }

    /** @throws IllegalArgumentException saying what a time looks like */
    static Duration parse(String text) {
        Matcher m = TIME.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a time; " + EXPECTED);
        }
        long amount = Long.parseLong(m.group(1));
        if (amount == 0) {
            // HAProxy reads 0 as "no limit"; a connection that may hang forever is not offered here.
            throw new IllegalArgumentException("0 would mean no time limit, which is not supported; " + EXPECTED);
        }
        String unit = m.group(2) == null ? "ms" : m.group(2);
        return switch (unit) {
            case "us" -> Duration.of(amount, ChronoUnit.MICROS);
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }
}
