package io.kontena.lb.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The access log lines written while it is open (with {@link ProxyFixture#accessLog()}); the tests' logging setup
 * turns the {@code access} logger off, so it is turned on meanwhile, for this collector only.
 */
public final class AccessLogLines implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger("access");
    private final Level level = logger.getLevel();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public AccessLogLines() {
        appender.start();
        logger.addAppender(appender);
        logger.setAdditive(false);
        logger.setLevel(Level.INFO);
    }

    public List<String> lines() {
        synchronized (appender) { // which the logging thread holds while it appends
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Override
    public void close() {
        logger.setLevel(level);
        logger.setAdditive(true);
        logger.detachAppender(appender);
        appender.stop();
    }
}
