package io.kontena.lb.cli;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code run}'s arguments read without picocli, when they are of the plain kind a service manager or a script
 * passes: each option of {@code run} at most once, as {@code --name VALUE} or {@code --name=VALUE}. picocli reads
 * the annotations of the command, its mixins and their option types, and registers its converters, before it
 * parses anything: about 0.1 s of a one-core start, and some 200 classes. Anything else (help, a mistake, an
 * option given twice, an {@code @file}, a value that begins with a dash, picocli's system properties) is left to
 * picocli, so what a user sees of the command line, its help and its errors, is picocli's as before.
 */
final class PlainRunArguments {
    private PlainRunArguments() {
    }

    /** The {@code run} command these arguments ask for, or null when picocli is to read them. */
    static RunCommand parse(String[] args) {
        if (args.length < 2 || !args[0].equals("run") || picocliConfigured()) {
            return null;
        }
        RunCommand run = new RunCommand();
        run.proxy.bind = ProxyOptions.DEFAULT_BIND;
        run.proxy.accessLog = true;
        run.proxy.drainSeconds = Integer.parseInt(ProxyOptions.DEFAULT_DRAIN_SECONDS);
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            if (!seen.add(name)) {
                return null;
            }
            String value;
            if (name.equals("--access-log")) {
                // arity 0..1: alone, it is true; a following word may be its value, which picocli decides
                if (eq < 0) {
                    if (i + 1 < args.length && !isOptionName(args[i + 1])) {
                        return null;
                    }
                    value = "true";
                } else {
                    value = arg.substring(eq + 1);
                }
                if (value.equals("true")) {
                    run.proxy.accessLog = true;
                } else if (value.equals("false")) {
                    run.proxy.accessLog = false;
                } else {
                    return null;
                }
                continue;
            }
            if (eq >= 0) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return null;
            }
            if (value.isEmpty() || value.charAt(0) == '-' || value.charAt(0) == '@') {
                return null;
            }
            switch (name) {
                case "--stack": run.stack.stack = Path.of(value); break;
                case "--lb": run.stack.lb = value; break;
                case "--vault": run.stack.vault = Path.of(value); break;
                case "--bind": run.proxy.bind = value; break;
                case "--admin": run.proxy.admin = value; break;
                case "--handover-socket": run.handover.socket = Path.of(value); break;
                case "--take-over": run.handover.from = Path.of(value); break;
                case "--workers":
                    if (!isNumber(value)) {
                        return null;
                    }
                    run.proxy.workers = Integer.valueOf(value);
                    break;
                case "--drain-timeout":
                    if (!isNumber(value)) {
                        return null;
                    }
                    run.proxy.drainSeconds = Integer.parseInt(value);
                    break;
                default:
                    return null;
            }
        }
        return run.stack.stack == null ? null : run;
    }

    private static boolean isOptionName(String arg) {
        switch (arg) {
            case "--stack": case "--lb": case "--vault": case "--bind": case "--workers": case "--access-log":
            case "--drain-timeout": case "--admin": case "--handover-socket": case "--take-over":
                return true;
            default:
                return arg.startsWith("--") && arg.indexOf('=') > 0 && isOptionName(arg.substring(0, arg.indexOf('=')));
        }
    }

    /** A decimal number without sign or leading zero that fits an int, read the same by every converter. */
    private static boolean isNumber(String value) {
        if (value.length() > 9 || (value.length() > 1 && value.charAt(0) == '0')) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** picocli reads system properties named picocli.* (tracing, quote trimming, ...); with any, it parses. */
    private static boolean picocliConfigured() {
        for (Object key : System.getProperties().keySet()) {
            if (key instanceof String name && name.startsWith("picocli.")) {
                return true;
            }
        }
        return false;
    }
}
