package io.kontena.lb.config;

import java.util.List;

/**
 * Header changes a service asks for ("http-request set-header ..." and the like in its custom settings),
 * plus an optional redirect of plain HTTP requests to HTTPS.
 */
public record HeaderRules(List<HeaderRule> request, List<HeaderRule> response, boolean redirectToHttps) {
    public static final HeaderRules NONE = new HeaderRules(List.of(), List.of(), false);

    public HeaderRules {
        request = List.copyOf(request);
        response = List.copyOf(response);
    }

    public boolean isEmpty() {
        return request.isEmpty() && response.isEmpty() && !redirectToHttps;
    }

    /** One change: SET replaces, ADD appends, DELETE removes every value (value is then empty). */
    public record HeaderRule(Action action, String name, String value) {
        public enum Action { SET, ADD, DELETE }
    }
}
