package io.kontena.lb.kontena;

import io.kontena.lb.config.Balance;
import io.kontena.lb.config.BasicAuth;
import io.kontena.lb.config.StickyCookie;
import io.kontena.lb.config.HeaderRules;
import io.kontena.lb.config.Timeouts;
import java.util.List;
import java.util.Optional;

/**
 * A balanced service's KONTENA_LB_* variables, read. Only meaningful when reading them found no problem, except
 * for the claims made across services (external port, default service), which are checked either way.
 *
 * @param mode         empty when KONTENA_LB_MODE is invalid
 * @param externalPort tcp only; 0 when invalid
 * @param terminateTls tcp only: KONTENA_LB_TLS=terminate
 * @param basicAuth    http only: the users of KONTENA_LB_BASIC_AUTH_SECRETS
 * @param stickyCookie http only: KONTENA_LB_COOKIE
 */
record ServiceSettings(
        Optional<Mode> mode,
        Balance balance,
        int internalPort,
        int externalPort,
        List<String> virtualHosts,
        List<String> virtualPaths,
        boolean keepVirtualPath,
        boolean defaultService,
        Timeouts timeouts,
        HeaderRules headers,
        boolean terminateTls,
        Optional<BasicAuth> basicAuth,
        Optional<StickyCookie> stickyCookie) {

    boolean isTcp() {
        return mode.equals(Optional.of(Mode.TCP));
    }

    boolean isHttp() {
        return mode.equals(Optional.of(Mode.HTTP));
    }
}
