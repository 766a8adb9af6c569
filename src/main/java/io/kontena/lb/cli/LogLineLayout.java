package io.kontena.lb.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.util.TimeZone;

/**
 * The two line formats the load balancer writes, laid out directly rather than by Logback's PatternLayout: the
 * PatternLayout class registers some seventy converters when it is first loaded, each a lambda the JVM has to spin
 * up, and parses its pattern; together with its date formatter that took about 70 ms of a 1 s start on one core.
 *
 * <p>{@link #operator()} is {@code %d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n} (local time), {@link
 * #messageOnly()} is {@code %msg%n}; both append the stack trace of a logged exception, as PatternLayout does.
 */
final class LogLineLayout extends LayoutBase<ILoggingEvent> {
    private static final long MILLIS_PER_DAY = 24L * 60 * 60 * 1000;

    private final boolean operator;
    /** Fixed when made, as Logback's date converter does: TimeZone.getDefault() copies the zone on each call. */
    private final TimeZone zone = TimeZone.getDefault();

    private LogLineLayout(boolean operator) {
        this.operator = operator;
    }

    /** Time of day, level, logger's simple name, message: for operators, on stderr. */
    static LogLineLayout operator() {
        return new LogLineLayout(true);
    }

    /** The message alone: the access log's lines. */
    static LogLineLayout messageOnly() {
        return new LogLineLayout(false);
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        StringBuilder line = new StringBuilder((message == null ? 4 : message.length()) + 64);
        if (operator) {
            long time = event.getTimeStamp();
            long ofDay = Math.floorMod(time + zone.getOffset(time), MILLIS_PER_DAY);
            twoDigits(line, ofDay / 3_600_000).append(':');
            twoDigits(line, ofDay / 60_000 % 60).append(':');
            twoDigits(line, ofDay / 1000 % 60).append('.');
            long millis = ofDay % 1000;
            line.append(millis < 100 ? (millis < 10 ? "00" : "0") : "").append(millis).append(' ');
            String level = event.getLevel().toString();
            line.append(level);
            for (int i = level.length(); i < 5; i++) {
                line.append(' ');
            }
            String logger = event.getLoggerName();
            line.append(' ').append(logger, logger.lastIndexOf('.') + 1, logger.length()).append(" - ");
        }
        line.append(message).append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(ThrowableProxyUtil.asString(thrown));   // one line per frame, each ended
        }
        return line.toString();
    }

    private static StringBuilder twoDigits(StringBuilder line, long value) {
        return line.append(value < 10 ? "0" : "").append(value);
    }
}
