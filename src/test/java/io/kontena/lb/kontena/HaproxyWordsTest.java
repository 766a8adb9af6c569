package io.kontena.lb.kontena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HaproxyWordsTest {

    @Test
    void splitsOnSpacesAndHonoursQuotesAndEscapes() {
        assertThat(HaproxyWords.split("  a  b\tc ")).containsExactly("a", "b", "c");
        assertThat(HaproxyWords.split("set \"a b\" 'c d' e\\ f")).containsExactly("set", "a b", "c d", "e f");
        assertThat(HaproxyWords.split("x \"\" y")).containsExactly("x", "", "y");
        assertThat(HaproxyWords.split("'a\\b' \"a\\\"b\"")).containsExactly("a\\b", "a\"b");
    }

    @Test
    void refusesUnclosedQuotesAndTrailingBackslash() {
        assertThatThrownBy(() -> HaproxyWords.split("a 'b")).hasMessage("a quote (') is not closed");
        assertThatThrownBy(() -> HaproxyWords.split("a \\")).hasMessage("the line ends with a lone backslash");
    }
}
