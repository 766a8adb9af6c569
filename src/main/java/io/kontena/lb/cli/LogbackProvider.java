package io.kontena.lb.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LogbackServiceProvider;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import ch.qos.logback.core.util.StatusPrinter;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * SLF4J's binding to Logback as {@code kontena-lb} starts it ({@link Main} names it in {@code slf4j.provider}):
 * Logback's own provider, less what a start does not need. Logback's compares the versions of its two jars, looks
 * for configurators with a ServiceLoader and formats a report of how long configuring took, which took about
 * 50 ms of a 1 s start on one core; this one applies {@link LogConfiguration} directly. With
 * {@code -Dlogback.configurationFile}, or a {@code logback-test.xml} on the class path, Logback's provider does
 * the work as usual.
 */
public final class LogbackProvider implements SLF4JServiceProvider {
    private SLF4JServiceProvider logback;
    private LoggerContext context;
    private IMarkerFactory markers;
    private MDCAdapter mdc;

    @Override
    public void initialize() {
        if (!LogConfiguration.applies()) {
            logback = new LogbackServiceProvider();
            logback.initialize();
            return;
        }
        LogbackMDCAdapter mdcAdapter = new LogbackMDCAdapter();
        context = new LoggerContext();
        context.setName(CoreConstants.DEFAULT_CONTEXT_NAME);
        context.setMDCAdapter(mdcAdapter);
        mdc = mdcAdapter;
        markers = new BasicMarkerFactory();
        LogConfiguration configuration = new LogConfiguration();
        configuration.setContext(context);
        configuration.configure(context);
        // as Logback's provider does, without loading StatusPrinter (its date format) when there is nothing to say
        if (new StatusUtil(context).getHighestLevel(0) >= Status.WARN) {
            StatusPrinter.printInCaseOfErrorsOrWarnings(context);
        }
        context.start();
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return logback != null ? logback.getLoggerFactory() : context;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return logback != null ? logback.getMarkerFactory() : markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return logback != null ? logback.getMDCAdapter() : mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return LogbackServiceProvider.REQUESTED_API_VERSION;
    }
}
