package io.kontena.lb.proxy.tls;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * When a certificate needs attention: it expired, or it expires within {@link #WARNING}. The same rule for the
 * warnings of a new configuration, the daily log and the admin API.
 */
public final class CertificateExpiry {
    /** Let's Encrypt renews 30 days ahead, so 14 days left means renewal is failing. */
    public static final Duration WARNING = Duration.ofDays(14);

    public enum Status { VALID, EXPIRING, EXPIRED }

    private CertificateExpiry() {
    }

    public static Status status(Instant notAfter, Instant now) {
        if (!notAfter.isAfter(now)) {
            return Status.EXPIRED;
        }
        return notAfter.isBefore(now.plus(WARNING)) ? Status.EXPIRING : Status.VALID;
    }

    /** What to tell the operator, to follow "certificate X "; empty while the certificate has time. */
    public static Optional<String> warning(Instant notAfter, Instant now) {
        return switch (status(notAfter, now)) {
            case EXPIRED -> Optional.of("expired on " + day(notAfter) + "; clients will reject it until it is renewed");
            case EXPIRING -> {
                long days = daysLeft(notAfter, now);
                yield Optional.of("expires on " + day(notAfter) + " (in " + days + (days == 1 ? " day" : " days")
                        + "); renew it");
            }
            case VALID -> Optional.empty();
        };
    }

    /** Whole days left, negative once expired (-3: expired three days ago); see {@link #status} for the sign. */
    public static long daysLeft(Instant notAfter, Instant now) {
        return Duration.between(now, notAfter).toDays();
    }

    /** The UTC date, as messages about certificates give it. */
    public static LocalDate day(Instant instant) {
        return LocalDate.ofInstant(instant, ZoneOffset.UTC);
    }
}
