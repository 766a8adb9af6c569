package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.TimeZone;

import org.junit.jupiter.api.Test;

/** The log lines as an operator reads them, laid out as the pattern they replace would have laid them out. */
class LogLineLayoutTest {
    private final LoggerContext context = new LoggerContext();
    private final Logger logger = context.getLogger("io.kontena.lb.proxy.Listeners");

    private LoggingEvent event(long time, Level level, String message, Throwable thrown, Object... args) {
        LoggingEvent event = new LoggingEvent(Logger.FQCN, logger, level, message, thrown, args);
        event.setTimeStamp(time);
        return event;
    }

    @Test
    void operatorLineIsLocalTimeLevelLoggerAndMessage() {
        long[] times = {0L, 1_764_158_399_999L, 1_764_115_200_007L, 1_700_000_000_123L, 1_711_846_800_000L, -1L};
        TimeZone saved = TimeZone.getDefault();
        try {
            for (String zone : new String[] {"UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Helsinki"}) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                for (long time : times) {
                    String expectedTime = DateTimeFormatter.ofPattern("HH:mm:ss.SSS")
                            .format(Instant.ofEpochMilli(time).atZone(ZoneId.of(zone)));
                    assertThat(LogLineLayout.operator().doLayout(
                            event(time, Level.INFO, "listening on {}", null, 8080))).as(zone + " " + time)
                            .isEqualTo(expectedTime + " INFO  Listeners - listening on 8080" + System.lineSeparator());
                }
            }
        } finally {
            TimeZone.setDefault(saved);
        }
        assertThat(LogLineLayout.operator().doLayout(event(0L, Level.ERROR, "no", null)))
                .contains(" ERROR Listeners - no");
    }

    @Test
    void accessLineIsTheMessageAlone() {
        assertThat(LogLineLayout.messageOnly().doLayout(event(0L, Level.INFO, "GET / 200", null)))
                .isEqualTo("GET / 200" + System.lineSeparator());
    }

    @Test
    void aLoggedExceptionFollowsWithItsStackTrace() {
        Exception cause = new IllegalArgumentException("bad port");
        String line = LogLineLayout.operator().doLayout(event(0L, Level.WARN, "failed", new IllegalStateException(
                "boom", cause)));
        assertThat(line).contains(" WARN  Listeners - failed" + System.lineSeparator()
                        + "java.lang.IllegalStateException: boom" + System.lineSeparator() + "\tat ")
                .contains("Caused by: java.lang.IllegalArgumentException: bad port")
                .endsWith(System.lineSeparator());
    }
}
