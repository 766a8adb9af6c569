package io.kontena.lb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code run}'s plain arguments, read without picocli, come out as picocli reads them; the rest is picocli's. */
class PlainRunArgumentsTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "run --stack s.yml",
        "run --stack=s.yml",
        "run --stack s.yml --bind 127.0.0.1 --workers 1 --access-log=false",
        "run --bind=10.0.0.1 --stack s.yml --workers=16 --access-log",
        "run --access-log --stack s.yml",
        "run --stack s.yml --access-log=true --drain-timeout 0",
        "run --stack s.yml --drain-timeout=120 --lb internet_lb --vault v.json --admin 127.0.0.1:9000",
        "run --stack dir/with=sign.yml --admin=9000 --handover-socket /run/h.sock --take-over /run/o.sock",
        "run --stack s.yml --access-log --bind 127.0.0.1",
        "run --stack s.yml --access-log --workers=2",
    })
    void readsAsPicocliDoes(String line) {
        String[] args = line.split(" ");
        RunCommand plain = PlainRunArguments.parse(args);
        assertThat(plain).as(line).isNotNull();
        assertThat(fields(plain)).isEqualTo(fields(picocli(args)));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "run",
        "validate --stack s.yml",
        "demo --stack s.yml",
        "run --help",
        "run --stack s.yml -h",
        "run --stack s.yml --version",
        "run --bind 127.0.0.1",
        "run --stack",
        "run --stack s.yml --stack t.yml",
        "run --stack s.yml --workers abc",
        "run --stack s.yml --workers 010",
        "run --stack s.yml --workers 0x10",
        "run --stack s.yml --workers -1",
        "run --stack s.yml --workers=9999999999",
        "run --stack s.yml --drain-timeout -1",
        "run --stack @args.txt",
        "@args.txt",
        "run --stack s.yml --access-log false",
        "run --stack s.yml --access-log maybe",
        "run --stack s.yml --access-log=FALSE",
        "run --stack s.yml --bogus",
        "run --stack s.yml extra",
        "run --stack s.yml -- --bind",
        "run --stack= ",
        "run --stack s.yml --bind=",
        "run --stack -s.yml",
    })
    void leavesEverythingElseToPicocli(String line) {
        assertThat(PlainRunArguments.parse(line.split(" "))).as(line).isNull();
    }

    private static RunCommand picocli(String[] args) {
        CommandLine cli = Main.commandLineFor(args);
        CommandLine.ParseResult parsed = cli.parseArgs(args);
        return (RunCommand) parsed.subcommand().commandSpec().userObject();
    }

    private static String fields(RunCommand run) {
        return String.join("|", String.valueOf(run.stack.stack), String.valueOf(run.stack.lb),
                String.valueOf(run.stack.vault), String.valueOf(run.proxy.bind), String.valueOf(run.proxy.workers),
                String.valueOf(run.proxy.accessLog), String.valueOf(run.proxy.drainSeconds),
                String.valueOf(run.proxy.admin), String.valueOf(run.handover.socket),
                String.valueOf(run.handover.from));
    }
}
