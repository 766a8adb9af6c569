package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HaproxyTimeTest {

    @ParameterizedTest
    @CsvSource({
            "500, PT0.5S",
            "500ms, PT0.5S",
            "250us, PT0.00025S",
            "10s, PT10S",
            "2m, PT2M",
            "1h, PT1H",
            "1d, PT24H",
            "' 30s ', PT30S",
    })
    void readsHaproxyTimes(String text, String expected) {
        assertThat(HaproxyTime.parse(text)).isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "s", "10 s", "1.5s", "10sec", "-1s", "10S", "1w", "1234567890"})
    void refusesWhatIsNotATime(String text) {
        assertThatThrownBy(() -> HaproxyTime.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + text + "' is not a time; " + HaproxyTime.EXPECTED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0s", "0ms"})
    void refusesNoLimit(String text) {
        assertThatThrownBy(() -> HaproxyTime.parse(text))
                .hasMessageStartingWith("0 would mean no time limit");
    }
}
