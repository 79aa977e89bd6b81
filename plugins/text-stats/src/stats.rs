//! The counts, all Unicode-aware.

/// Statistics of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Whitespace-separated tokens that contain at least one alphanumeric
    /// character (`--` is not a word, `3.14` and `don't` are).
    pub words: usize,
    /// Sentences as split by [`textkit::sentences`].
    pub sentences: usize,
    /// Unicode scalar values (`char`s), not bytes.
    pub characters: usize,
    /// Characters that are not whitespace.
    pub characters_no_spaces: usize,
    /// Lines: `\n`-separated, a final line ending does not start a new
    /// line, and an empty text has none.
    pub lines: usize,
    /// Mean number of alphanumeric characters per word (punctuation such
    /// as the comma in `well,` does not count); 0 without words.
    pub avg_word_length: f64,
}

impl Stats {
    /// Measure `text`.
    pub fn of(text: &str) -> Self {
        let word_lengths: Vec<usize> = text
            .split_whitespace()
            .map(|token| token.chars().filter(|c| c.is_alphanumeric()).count())
            .filter(|&n| n > 0)
            .collect();
        let words = word_lengths.len();
        let avg_word_length = if words == 0 {
            0.0
        } else {
            let total: usize = word_lengths.iter().sum();
            // Rounded to 4 decimals so responses stay short and stable.
            ((total as f64 / words as f64) * 10_000.0).round() / 10_000.0
        };
        Self {
            words,
            sentences: textkit::sentences(text).len(),
            characters: text.chars().count(),
            characters_no_spaces: text.chars().filter(|c| !c.is_whitespace()).count(),
            lines: text.lines().count(),
            avg_word_length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn empty_text() {
        let s = Stats::of("");
        assert_eq!((s.words, s.sentences, s.characters, s.lines), (0, 0, 0, 0));
        assert_eq!(s.avg_word_length, 0.0);
    }

    #[test]
    fn unicode_counts_chars_not_bytes() {
        let s = Stats::of("Café — naïve 日本語!\n");
        assert_eq!(s.characters, 18);
        assert_eq!(s.characters_no_spaces, 14);
        assert_eq!(s.words, 3); // the dash is not a word
        assert_eq!(s.lines, 1);
        assert_eq!(s.avg_word_length, 4.0); // 4 + 5 + 3 letters
    }

    #[test]
    fn words_and_lines() {
        let s = Stats::of("Well, it's 3.14 -- roughly.\n\nNext paragraph.");
        assert_eq!(s.words, 6);
        assert_eq!(s.lines, 3);
        assert_eq!(s.sentences, 2);
    }
}
