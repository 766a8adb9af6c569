package io.kontena.lb.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The class archive that {@code bin/kontena-lb} has this JVM write as it ends ({@code -XX:ArchiveClassesAtExit}),
 * named by the {@value #PROPERTY} property the launcher sets beside it. A run that ends before it serves (a mistake
 * on its command line or in its configuration, a port in use, a stop while starting) would leave an archive of few
 * of the classes a start needs, and every later start of the jar on that JDK would map it: such a run marks the
 * archive as partial ({@value #MARK} beside it), and the launcher makes it again on the next start.
 */
final class ClassArchive {
    private static final String PROPERTY = "kontena.lb.class-archive";
    private static final String MARK = ".partial";

    private static Thread markPartial;

    private ClassArchive() {
    }

    /** From the start of the process: until {@link #serving()}, the archive it writes is marked partial. */
    static synchronized void untilServing() {
        String archive = System.getProperty(PROPERTY);
        if (archive == null) {
            return;
        }
        // A shutdown hook, as the JVM writes the archive after the hooks have run, however the process ends.
        markPartial = new Thread(() -> {
            try {
                Files.writeString(Path.of(archive + MARK), "");
            } catch (IOException | RuntimeException e) {
                System.err.println("kontena-lb: cannot mark the class archive " + archive + " as partial: " + e);
            }
        }, "class-archive-mark");
        Runtime.getRuntime().addShutdownHook(markPartial);
    }

    /** The process serves: what it has loaded by now is what a start needs. */
    static synchronized void serving() {
        if (markPartial == null) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(markPartial);
        } catch (IllegalStateException stopping) {
            // Told to stop while starting: the mark is right.
        }
        markPartial = null;
    }
}
