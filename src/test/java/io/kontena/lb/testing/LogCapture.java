package io.kontena.lb.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** What a logger, and those under it, log while this is open. */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final Level level;
    private final boolean additive;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(String name) {
        logger = (Logger) LoggerFactory.getLogger(name);
        level = logger.getLevel();
        additive = logger.isAdditive();
        appender.start();
        logger.addAppender(appender);
    }

    public static LogCapture of(String loggerName) {
        return new LogCapture(loggerName);
    }

    /**
     * The access log (written with {@link ProxyFixture#accessLog()}): the tests' logging setup turns the
     * {@code access} logger off, so it is on while this is open, for this capture only.
     */
    public static LogCapture accessLog() {
        LogCapture capture = new LogCapture("access");
        capture.logger.setAdditive(false);
        capture.logger.setLevel(Level.INFO);
        return capture;
    }

    public List<ILoggingEvent> events() {
        synchronized (appender) { // which the logging thread holds while it appends
            return List.copyOf(appender.list);
        }
    }

    public List<String> lines() {
        return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(level);
        logger.setAdditive(additive);
        appender.stop();
    }
}
