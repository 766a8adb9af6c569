package io.kontena.lb.cli;

import ch.qos.logback.core.Appender;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.spi.FilterAttachableImpl;
import ch.qos.logback.core.spi.FilterReply;
import ch.qos.logback.core.filter.Filter;
import java.util.List;
import java.util.function.Supplier;

/**
 * An appender made, and started, when the first event comes: the access log's, which a load balancer started with
 * {@code --access-log=false} never uses. Making Logback's AsyncAppender (its queue, its worker thread) and the
 * console appender behind it took some 15 ms of a one-core start. Stopping this stops the appender, if made.
 */
final class OnFirstUseAppender<E> extends ContextAwareBase implements Appender<E> {
    private final Supplier<Appender<E>> make;
    private final FilterAttachableImpl<E> filters = new FilterAttachableImpl<>();
    private String name;
    private volatile boolean started;
    private volatile Appender<E> made;

    OnFirstUseAppender(String name, Supplier<Appender<E>> make) {
        this.name = name;
        this.make = make;
    }

    @Override
    public void doAppend(E event) {
        Appender<E> appender = made;
        if (appender == null) {
            appender = make();
        }
        appender.doAppend(event);
    }

    private synchronized Appender<E> make() {
        if (made == null) {
            made = make.get();
        }
        return made;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public void setName(String name) {
        this.name = name;
    }

    @Override
    public void start() {
        started = true;
    }

    @Override
    public synchronized void stop() {
        started = false;
        if (made != null) {
            made.stop();
        }
    }

    @Override
    public boolean isStarted() {
        return started;
    }

    @Override
    public void addFilter(Filter<E> filter) {
        filters.addFilter(filter);
    }

    @Override
    public void clearAllFilters() {
        filters.clearAllFilters();
    }

    @Override
    public List<Filter<E>> getCopyOfAttachedFiltersList() {
        return filters.getCopyOfAttachedFiltersList();
    }

    @Override
    public FilterReply getFilterChainDecision(E event) {
        return filters.getFilterChainDecision(event);
    }
}
