package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StackFileTest {

    static final String SEED_HTTP = """
            internet_lb:
              image: kontena/lb:latest
              ports:
                - 80:80

            web:
              image: nginx:latest
              environment:
                - KONTENA_LB_MODE=http
                - KONTENA_LB_BALANCE=roundrobin
                - KONTENA_LB_INTERNAL_PORT=80
                - KONTENA_LB_VIRTUAL_HOSTS=www.kontena.io,kontena.io
              links:
                - internet_lb
            api:
              image: registry.kontena.local/restapi:latest
              environment:
                - KONTENA_LB_MODE=http
                - KONTENA_LB_BALANCE=roundrobin
                - KONTENA_LB_INTERNAL_PORT=8080
                - KONTENA_LB_VIRTUAL_PATH=/api
              links:
                - internet_lb
            """;

    static final String SEED_TCP = """
            galera_lb:
              image: kontena/lb:latest

            galera:
              image: registry.kontena.local/galera:latest
              environment:
                - KONTENA_LB_MODE=tcp
                - KONTENA_LB_BALANCE=leastcon
                - KONTENA_LB_EXTERNAL_PORT=3306
                - KONTENA_LB_INTERNAL_PORT=3306
              links:
                - galera_lb
            """;

    static Stack parse(String yaml) {
        return StackFile.parse(yaml, "kontena.yml");
    }

    @Test
    void readsTheSeedHttpExample() {
        Stack stack = parse(SEED_HTTP);

        assertThat(stack.name()).isEmpty();
        assertThat(stack.services()).extracting(StackService::name).containsExactly("internet_lb", "web", "api");
        StackService lb = stack.service("internet_lb").orElseThrow();
        assertThat(lb.image()).isEqualTo("kontena/lb:latest");
        assertThat(lb.ports()).containsExactly(
                new PortMapping(Optional.empty(), Optional.of(80), 80, PortMapping.Protocol.TCP));
        StackService web = stack.service("web").orElseThrow();
        assertThat(web.environment()).containsExactly(
                Map.entry("KONTENA_LB_MODE", "http"),
                Map.entry("KONTENA_LB_BALANCE", "roundrobin"),
                Map.entry("KONTENA_LB_INTERNAL_PORT", "80"),
                Map.entry("KONTENA_LB_VIRTUAL_HOSTS", "www.kontena.io,kontena.io"));
        assertThat(web.links()).containsExactly(Link.of("internet_lb"));
        assertThat(web.upstreams()).isEmpty();
        assertThat(web.secrets()).isEmpty();
    }

    @Test
    void readsTheSeedTcpExample() {
        Stack stack = parse(SEED_TCP);

        assertThat(stack.services()).extracting(StackService::name).containsExactly("galera_lb", "galera");
        assertThat(stack.service("galera_lb").orElseThrow().ports()).isEmpty();
        assertThat(stack.service("galera").orElseThrow().environment())
                .containsEntry("KONTENA_LB_BALANCE", "leastcon")
                .containsEntry("KONTENA_LB_EXTERNAL_PORT", "3306");
    }

    @Test
    void readsTheSeedSecretsExample() {
        Stack stack = parse("""
                loadbalancer:
                  image: kontena/lb:latest
                  ports:
                    - 443:443
                  secrets:
                    - secret: www_domain_com_cert
                      name: SSL_CERTS
                      type: env
                    - secret: api_domain_com_cert
                      name: SSL_CERTS
                      type: env
                """);

        assertThat(stack.services().get(0).secrets()).containsExactly(
                new SecretRef("www_domain_com_cert", "SSL_CERTS", "env"),
                new SecretRef("api_domain_com_cert", "SSL_CERTS", "env"));
    }

    @Test
    void readsTheLaterShapeAndIgnoresItsOtherKeys() {
        Stack stack = parse("""
                stack: acme/shop
                version: 0.1.0
                description: a shop
                variables:
                  domain:
                    type: string
                services:
                  lb:
                    image: kontena/lb:latest
                  web:
                    image: nginx
                    instances: 3
                    links:
                      - lb
                """);

        assertThat(stack.name()).contains("acme/shop");
        assertThat(stack.linkName()).contains("shop");
        assertThat(stack.services()).extracting(StackService::name).containsExactly("lb", "web");
        assertThat(stack.service("web").orElseThrow().links()).containsExactly(Link.of("lb"));
    }

    @Test
    void laterShapeWithoutStackName() {
        Stack stack = parse("""
                version: '2'
                services:
                  lb:
                    image: kontena/lb
                """);

        assertThat(stack.name()).isEmpty();
        assertThat(stack.services()).extracting(StackService::name).containsExactly("lb");
    }

    @Test
    void aFirstShapeServiceMayBeCalledServices() {
        Stack stack = parse("""
                services:
                  image: nginx
                lb:
                  image: kontena/lb
                """);

        assertThat(stack.name()).isEmpty();
        assertThat(stack.services()).extracting(StackService::name).containsExactly("services", "lb");
        assertThat(stack.services().get(0).image()).isEqualTo("nginx");
    }

    @Test
    void environmentAsAMapTurnsNumbersAndBooleansIntoTheirText() {
        StackService web = parse("""
                web:
                  environment:
                    KONTENA_LB_INTERNAL_PORT: 8080
                    KONTENA_LB_KEEP_VIRTUAL_PATH: true
                    RATIO: 1.10
                    EMPTY:
                    QUOTED: "a b"
                """).services().get(0);

        assertThat(web.environment()).containsExactly(
                Map.entry("KONTENA_LB_INTERNAL_PORT", "8080"),
                Map.entry("KONTENA_LB_KEEP_VIRTUAL_PATH", "true"),
                Map.entry("RATIO", "1.10"),
                Map.entry("EMPTY", ""),
                Map.entry("QUOTED", "a b"));
        assertThat(web.image()).isEmpty();
    }

    @Test
    void environmentListSplitsAtTheFirstEqualsAndABareKeyIsEmpty() {
        StackService web = parse("""
                web:
                  environment:
                    - A=b=c
                    - BARE
                    - EMPTY=
                    - |
                      KONTENA_LB_CUSTOM_SETTINGS=timeout server 2m
                      balance source
                """).services().get(0);

        assertThat(web.environment()).containsExactly(
                Map.entry("A", "b=c"),
                Map.entry("BARE", ""),
                Map.entry("EMPTY", ""),
                Map.entry("KONTENA_LB_CUSTOM_SETTINGS", "timeout server 2m\nbalance source\n"));
    }

    @Test
    void linksInEveryForm() {
        StackService web = parse("""
                web:
                  links:
                    - lb
                    - db:database
                    - other/cache
                    - other/queue:q
                """).services().get(0);

        assertThat(web.links()).containsExactly(
                Link.of("lb"),
                new Link(Optional.empty(), "db", Optional.of("database")),
                new Link(Optional.of("other"), "cache", Optional.empty()),
                new Link(Optional.of("other"), "queue", Optional.of("q")));
        assertThat(web.links()).extracting(Link::toString)
                .containsExactly("lb", "db:database", "other/cache", "other/queue:q");
    }

    @Test
    void portsInEveryFormKeepTheirTextEvenUnquoted() {
        // Unquoted 80:80 is a base-60 number in YAML 1.1; it must still read as a port mapping.
        StackService lb = parse("""
                lb:
                  ports:
                    - 80:80
                    - "8443:443/tcp"
                    - 127.0.0.1:9000:9000
                    - "[::1]:9001:9001"
                    - 5000
                    - 53:53/udp
                    - 0:80
                """).services().get(0);

        assertThat(lb.ports()).extracting(PortMapping::toString).containsExactly(
                "80:80", "8443:443", "127.0.0.1:9000:9000", "[::1]:9001:9001", "5000", "53:53/udp", "0:80");
        assertThat(lb.ports().get(2).ip()).contains("127.0.0.1");
        assertThat(lb.ports().get(3).ip()).contains("::1");
        assertThat(lb.ports().get(4).hostPort()).isEmpty();
        assertThat(lb.ports().get(4).listenPort()).isEqualTo(5000);
        assertThat(lb.ports().get(5).protocol()).isEqualTo(PortMapping.Protocol.UDP);
        assertThat(lb.ports().get(6).listenPort()).isZero();
    }

    @Test
    void upstreamsAreKeptAsWrittenForTheTranslatorToCheck() {
        StackService web = parse("""
                web:
                  upstreams:
                    - 10.0.0.1
                    - "10.0.0.2:8080"
                    - "[fd00::1]:8080"
                    - not a host
                """).services().get(0);

        assertThat(web.upstreams()).containsExactly("10.0.0.1", "10.0.0.2:8080", "[fd00::1]:8080", "not a host");
    }

    @Test
    void secretTypeDefaultsToEnv() {
        StackService lb = parse("""
                lb:
                  secrets:
                    - secret: cert
                      name: SSL_CERTS
                """).services().get(0);

        assertThat(lb.secrets()).containsExactly(new SecretRef("cert", "SSL_CERTS", "env"));
    }

    @Test
    void mergeKeysAndAnchorsApply() {
        Stack stack = parse("""
                common: &common
                  image: nginx
                  links:
                    - lb
                lb:
                  image: kontena/lb
                web:
                  <<: *common
                  image: nginx:1.25
                """);

        StackService web = stack.service("web").orElseThrow();
        assertThat(web.image()).isEqualTo("nginx:1.25");
        assertThat(web.links()).containsExactly(Link.of("lb"));
    }

    @Test
    void aServiceWithNothingIsEmpty() {
        StackService lb = parse("lb:\n").services().get(0);

        assertThat(lb.image()).isEmpty();
        assertThat(lb.environment()).isEmpty();
        assertThat(lb.links()).isEmpty();
    }

    @Test
    void readsAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("kontena.yml");
        Files.writeString(file, SEED_TCP);

        assertThat(StackFile.read(file).services()).hasSize(2);
    }

    @Test
    void aMissingFileNamesTheFile(@TempDir Path dir) {
        Path file = dir.resolve("missing.yml");

        assertThatThrownBy(() -> StackFile.read(file))
                .isInstanceOf(StackFileException.class)
                .hasMessage(file + ": no such file");
    }

    @Test
    void badYamlNamesFileLineAndColumn() {
        assertThatThrownBy(() -> parse("lb:\n  image: [unclosed\n  ports: x\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageStartingWith("kontena.yml:3:")
                .hasMessageContaining("invalid YAML");
    }

    @Test
    void tabsAreBadYaml() {
        assertThatThrownBy(() -> parse("lb:\n\timage: kontena/lb\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageStartingWith("kontena.yml:2:1: invalid YAML");
    }

    @Test
    void anEmptyFileIsAnError() {
        assertThatThrownBy(() -> parse("# nothing\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml: the file is empty; expected a map of services "
                        + "(or stack:, version: and services:)");
    }

    @Test
    void severalDocumentsAreAnError() {
        assertThatThrownBy(() -> parse("lb:\n  image: a\n---\nweb:\n  image: b\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageStartingWith("kontena.yml:3:")
                .hasMessageContaining("single document");
    }

    @Test
    void theTopLevelMustBeAMap() {
        assertThatThrownBy(() -> parse("- lb\n- web\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:1:1: top level: expected a map of services "
                        + "(or stack:, version: and services:), found a list");
    }

    @Test
    void aServiceMustBeAMap() {
        assertThatThrownBy(() -> parse("lb: kontena/lb\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:1:5: service 'lb': expected a map of fields "
                        + "(image:, environment:, links:, ...), found 'kontena/lb'");
    }

    @Test
    void servicesOfTheLaterShapeMustBeAMap() {
        assertThatThrownBy(() -> parse("stack: s\nservices:\n  - lb\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:3:3: field 'services': expected a map of services, found a list");
    }

    @Test
    void environmentOfTheWrongShapeNamesServiceAndField() {
        assertThatThrownBy(() -> parse("web:\n  image: nginx\n  environment: KONTENA_LB_MODE=http\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:3:16: service 'web', field 'environment': expected a list of KEY=VALUE "
                        + "or a map of KEY: VALUE, found 'KONTENA_LB_MODE=http'");
    }

    @Test
    void anEnvironmentValueCannotBeAList() {
        assertThatThrownBy(() -> parse("web:\n  environment:\n    HOSTS: [a, b]\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:3:12: service 'web', field 'environment', variable HOSTS: "
                        + "expected a text, number or boolean, found a list");
    }

    @Test
    void anEnvironmentEntryNeedsAName() {
        assertThatThrownBy(() -> parse("web:\n  environment:\n    - =http\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:3:7: service 'web', field 'environment': "
                        + "'' is not a variable name; expected KEY=VALUE");
    }

    @Test
    void aVariableSetTwiceIsAnError() {
        assertThatThrownBy(() -> parse("web:\n  environment:\n    - A=1\n    - A=2\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:4:7: service 'web', field 'environment': variable A is set twice");
    }

    @Test
    void duplicateKeysAreAnError() {
        assertThatThrownBy(() -> parse("web:\n  image: a\n  image: b\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:3:3: service 'web': 'image' is given twice");
    }

    @Test
    void aBadLinkNamesServiceFieldAndForm() {
        assertThatThrownBy(() -> parse("web:\n  links:\n    - a/b/c\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:3:7: service 'web', field 'links': 'a/b/c': expected name, name:alias "
                        + "or stack/name (letters, digits, '_', '.', '-')");
    }

    @Test
    void badPortEntriesNameServiceFieldAndForm() {
        assertThatThrownBy(() -> parse("lb:\n  ports:\n    - \"80:http\"\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageStartingWith("kontena.yml:3:7: service 'lb', field 'ports': '80:http': 'http' is not "
                        + "a port from 1 to 65535; expected CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER");
        assertThatThrownBy(() -> parse("lb:\n  ports:\n    - 8000-8010:8000-8010\n"))
                .hasMessageContaining("port ranges such as '8000-8010' are not supported");
        assertThatThrownBy(() -> parse("lb:\n  ports:\n    - 80:80/sctp\n"))
                .hasMessageContaining("unknown protocol 'sctp'");
        assertThatThrownBy(() -> parse("lb:\n  ports:\n    - 70000:80\n"))
                .hasMessageContaining("'70000' is not a port from 0 to 65535");
        assertThatThrownBy(() -> parse("lb:\n  ports:\n    - 80:0\n"))
                .hasMessageContaining("'0' is not a port from 1 to 65535");
        assertThatThrownBy(() -> parse("lb:\n  ports:\n    - \"::1:80:80\"\n"))
                .hasMessageContaining("IPv6 addresses go in brackets");
        assertThatThrownBy(() -> parse("lb:\n  ports:\n    - target: 80\n"))
                .hasMessage("kontena.yml:3:7: service 'lb', field 'ports': expected HOST:CONTAINER, found a map");
    }

    @Test
    void aSecretNeedsItsKeys() {
        assertThatThrownBy(() -> parse("lb:\n  secrets:\n    - name: SSL_CERTS\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:3:7: service 'lb', field 'secrets': missing 'secret:' (a vault key)");
    }

    @Test
    void upstreamsMustBeAList() {
        assertThatThrownBy(() -> parse("web:\n  upstreams: 10.0.0.1\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessage("kontena.yml:2:14: service 'web', field 'upstreams': "
                        + "expected a list of host or host:port entries, found '10.0.0.1'");
    }

    @Test
    void aBadServiceNameIsAnError() {
        assertThatThrownBy(() -> parse("\"my web\":\n  image: nginx\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageStartingWith("kontena.yml:2:3: service 'my web': a service name is");
    }

    @Test
    void typeTagsAreRefused() {
        assertThatThrownBy(() -> parse("web: !!javax.script.ScriptEngineManager [x]\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageStartingWith("kontena.yml:1:6: invalid YAML: Global tag is not allowed");
        assertThatThrownBy(() -> parse("web:\n  image: !custom nginx\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageContaining("unsupported YAML tag !custom");
    }

    @Test
    void tooManyAliasesAreRefused() {
        StringBuilder yaml = new StringBuilder("a: &a [x]\nweb:\n  links:\n");
        for (int i = 0; i < 200; i++) {
            yaml.append("    - *a\n");
        }

        assertThatThrownBy(() -> parse(yaml.toString()))
                .isInstanceOf(StackFileException.class)
                .hasMessageContaining("invalid YAML");
    }

    @Test
    void aMergeCycleIsAnError() {
        assertThatThrownBy(() -> parse("web: &w\n  image: a\n  <<: *w\n"))
                .isInstanceOf(StackFileException.class)
                .hasMessageContaining("refers back to the map it is in");
    }

    @Test
    void servicesKeepFileOrder() {
        assertThat(parse("b:\n  image: x\na:\n  image: y\n").services())
                .extracting(StackService::name).isEqualTo(List.of("b", "a"));
    }
}
