package io.kontena.lb.cli;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.joran.spi.ConsoleTarget;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The logging setup, made with Logback's API rather than read from a logback.xml: parsing XML takes Logback
 * about a third of a second at start-up. Operator messages go to stderr; the access log (logger "access") is one
 * line per request on stdout, written by a background thread that drops lines rather than block the data plane.
 *
 * <p>A file named by {@code -Dlogback.configurationFile}, or a {@code logback-test.xml} on the class path, is used
 * instead when there is one.
 */
public final class LogConfiguration extends ContextAwareBase implements Configurator {
    /** False when a Logback configuration file is given ({@code -Dlogback.configurationFile}, logback-test.xml). */
    static boolean applies() {
        return System.getProperty("logback.configurationFile") == null
                && LogConfiguration.class.getClassLoader().getResource("logback-test.xml") == null;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (!applies()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        ConsoleAppender<ILoggingEvent> stderr = console(context, "STDERR", ConsoleTarget.SystemErr,
                LogLineLayout.operator());
        // made when the first access log line comes: never, with --access-log=false
        OnFirstUseAppender<ILoggingEvent> access = new OnFirstUseAppender<>("ACCESS",
                new java.util.function.Supplier<>() {   // not a lambda: one class fewer to spin up at start
                    @Override
                    public ch.qos.logback.core.Appender<ILoggingEvent> get() {
                        return accessAppender(context);
                    }
                });
        access.setContext(context);
        access.start();
        Logger accessLogger = context.getLogger("access");
        accessLogger.setLevel(Level.INFO);
        accessLogger.setAdditive(false);
        accessLogger.addAppender(access);

        context.getLogger("io.netty").setLevel(Level.WARN);
        // the etcd client's own libraries: their INFO lines are about connection handling, which the source reports
        context.getLogger("io.etcd").setLevel(Level.WARN);
        context.getLogger("io.grpc").setLevel(Level.WARN);
        context.getLogger("io.vertx").setLevel(Level.WARN);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stderr);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static AsyncAppender accessAppender(LoggerContext context) {
        ConsoleAppender<ILoggingEvent> stdout = console(context, "STDOUT", ConsoleTarget.SystemOut,
                LogLineLayout.messageOnly());
        AsyncAppender access = new AsyncAppender();
        access.setContext(context);
        access.setName("ACCESS");
        access.setQueueSize(8192);
        access.setDiscardingThreshold(0);
        access.setNeverBlock(true);
        access.addAppender(stdout);
        access.start();
        return access;
    }

    private static ConsoleAppender<ILoggingEvent> console(LoggerContext context, String name, ConsoleTarget target,
                                                          LogLineLayout layout) {
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.setTarget(target.getName());
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }
}
