package io.kontena.lb.kontena;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.HeaderRules.HeaderRule;
import io.kontena.lb.config.Timeouts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * KONTENA_LB_CUSTOM_SETTINGS: HAProxy lines for a service's backend or listen section. The proxy is not HAProxy,
 * so only the lines it can honour are accepted; any other line is a problem rather than silently ignored.
 */
final class CustomSettings {
    static final String VARIABLE = "KONTENA_LB_CUSTOM_SETTINGS";
    private static final String SUPPORTED_ANY = "timeout connect|server|client|tunnel <time>; "
            + "balance roundrobin|source|leastconn";
    private static final String SUPPORTED_HTTP = SUPPORTED_ANY
            + "; http-request set-header|add-header|del-header NAME [VALUE]"
            + "; http-response set-header|add-header|del-header NAME [VALUE]"
            + "; redirect scheme https [code 301|302|303|307|308] if !{ ssl_fc }"
            + "; option forwardfor|http-server-close|http-keep-alive";
    private static final Set<String> REDIRECT_CODES = Set.of("301", "302", "303", "307", "308");
    // The proxy always adds X-Forwarded-For and keeps connections alive, so these options ask for nothing new.
    private static final Set<String> BUILT_IN_OPTIONS = Set.of("forwardfor", "http-server-close", "http-keep-alive");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    /** What the lines ask for; balance is empty when no line sets it. */
    record Result(Optional<Balance> balance, Timeouts timeouts, HeaderRules headers) {
        static final Result NONE = new Result(Optional.empty(), Timeouts.DEFAULTS, HeaderRules.NONE);
    }

    private final boolean http;
    private Optional<Balance> balance = Optional.empty();
    private Timeouts timeouts = Timeouts.DEFAULTS;
    private final List<HeaderRule> request = new ArrayList<>();
    private final List<HeaderRule> response = new ArrayList<>();
    private boolean redirectToHttps;

    private CustomSettings(boolean http, Result defaults) {
        this.http = http;
        this.timeouts = defaults.timeouts();
        if (http) {
            request.addAll(defaults.headers().request());
            response.addAll(defaults.headers().response());
            redirectToHttps = defaults.headers().redirectToHttps();
        }
    }

    /** @param http whether the HTTP-only lines are allowed */
    static Result parse(String service, String text, boolean http, Problems problems) {
        return parse(service, text, http, Result.NONE, problems);
    }

    /**
     * @param defaults what the load balancer's own lines (its defaults) set, which these lines add to or change;
     *                 header lines only for an HTTP service
     */
    static Result parse(String service, String text, boolean http, Result defaults, Problems problems) {
        CustomSettings settings = new CustomSettings(http, defaults);
        String[] lines = text.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                settings.apply(HaproxyWords.split(line));
            } catch (IllegalArgumentException e) {
                problems.add(service, VARIABLE, line, "line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return settings.result();
    }

    /**
     * The load balancer's own KONTENA_LB_CUSTOM_SETTINGS, HAProxy's defaults section: timeouts, header and redirect
     * lines that every service starts from (header lines for HTTP services). A balance line is a problem: each
     * service's KONTENA_LB_BALANCE decides.
     */
    static Result defaults(StackService lb, Problems problems) {
        String text = lb.environment().get(VARIABLE);
        if (text == null) {
            return Result.NONE;
        }
        Result defaults = parse(lb.name(), text, true, problems);
        if (defaults.balance().isPresent()) {
            problems.add(lb.name(), VARIABLE, "balance", "a balance line has no effect here: each service's "
                    + "KONTENA_LB_BALANCE (roundrobin by default) decides; set it on the services");
        }
        return defaults;
    }

    private Result result() {
        return new Result(balance, timeouts, new HeaderRules(request, response, redirectToHttps));
    }

    /** What the defaults alone give a service without lines of its own. */
    static Result forService(Result defaults, boolean http) {
        return new CustomSettings(http, defaults).result();
    }

    private void apply(List<String> words) {
        String keyword = words.get(0);
        switch (keyword) {
            case "timeout" -> timeout(words);
            case "balance" -> balance(words);
            case "http-request" -> header(words, request);
            case "http-response" -> header(words, response);
            case "redirect" -> redirect(words);
            case "option" -> option(words);
            default -> throw unsupported();
        }
    }

    private void timeout(List<String> words) {
        if (words.size() != 3) {
            throw unsupported();
        }
        Duration time = HaproxyTime.parse(words.get(2));
        timeouts = switch (words.get(1)) {
            case "connect" -> timeouts.withConnect(time);
            case "server" -> timeouts.withServer(time);
            case "client" -> timeouts.withClient(time);
            case "tunnel" -> timeouts.withTunnel(time);
            default -> throw unsupported();
        };
    }

    private void balance(List<String> words) {
        if (words.size() != 2) {
            throw unsupported();
        }
        balance = Optional.of(BalanceNames.parse(words.get(1)).orElseThrow(() -> new IllegalArgumentException(
                "unknown balance '" + words.get(1) + "'; expected " + BalanceNames.VALID)));
    }

    private void header(List<String> words, List<HeaderRule> rules) {
        httpOnly(words);
        if (words.size() < 3) {
            throw unsupported();
        }
        HeaderRule.Action action = switch (words.get(1)) {
            case "set-header" -> HeaderRule.Action.SET;
            case "add-header" -> HeaderRule.Action.ADD;
            case "del-header" -> HeaderRule.Action.DELETE;
            default -> throw unsupported();
        };
        String name = words.get(2);
        if (!HEADER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a header name");
        }
        int valueWords = action == HeaderRule.Action.DELETE ? 0 : 1;
        if (words.size() > 3 + valueWords) {
            String extra = words.get(3 + valueWords);
            throw new IllegalArgumentException(extra.equals("if") || extra.equals("unless")
                    ? "conditions (if/unless) are not supported on header rules"
                    : "too many words; quote a value that has spaces, as in \"max-age=31536000; preload\"");
        }
        if (words.size() < 3 + valueWords) {
            throw new IllegalArgumentException(words.get(1) + " needs a value after the header name");
        }
        String value = valueWords == 0 ? "" : literal(words.get(3));
        rules.add(new HeaderRule(action, name, value));
    }

    // HAProxy reads header values as log-format: %% is a percent sign, other % start an expression.
    private static String literal(String value) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%') {
                if (i + 1 >= value.length() || value.charAt(i + 1) != '%') {
                    throw new IllegalArgumentException("HAProxy expressions such as %[src] are not supported; "
                            + "give a literal value (write %% for a percent sign)");
                }
                i++;
            }
            out.append(c);
        }
        return out.toString();
    }

    private void redirect(List<String> words) {
        httpOnly(words);
        if (words.size() < 3 || !words.get(1).equals("scheme") || !words.get(2).equals("https")) {
            throw unsupported();
        }
        int next = 3;
        if (words.size() > next && words.get(next).equals("code")) {
            if (words.size() <= next + 1 || !REDIRECT_CODES.contains(words.get(next + 1))) {
                throw new IllegalArgumentException("a redirect code is one of 301, 302, 303, 307 or 308");
            }
            next += 2;
        }
        String condition = String.join("", words.subList(Math.min(next + 1, words.size()), words.size()));
        if (words.size() <= next || !words.get(next).equals("if") || !condition.equals("!{ssl_fc}")) {
            throw new IllegalArgumentException("the redirect needs the condition 'if !{ ssl_fc }', "
                    + "so that only plain HTTP requests are redirected");
        }
        redirectToHttps = true;
    }

    private void option(List<String> words) {
        httpOnly(words);
        if (words.size() != 2 || !BUILT_IN_OPTIONS.contains(words.get(1))) {
            throw unsupported();
        }
    }

    private void httpOnly(List<String> words) {
        if (!http) {
            throw new IllegalArgumentException("'" + words.get(0) + "' applies only to KONTENA_LB_MODE=http; "
                    + "supported for tcp: " + SUPPORTED_ANY);
        }
    }

    private IllegalArgumentException unsupported() {
        return new IllegalArgumentException("not supported; supported lines: "
                + (http ? SUPPORTED_HTTP : SUPPORTED_ANY));
    }
}
