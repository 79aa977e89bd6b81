//! Word tokenising for term statistics.

/// The lowercase words of `text`: maximal runs of alphanumeric characters,
/// keeping an apostrophe between letters (`don't`) and dropping a trailing
/// possessive `'s` (`system's` → `system`).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .map(|token| token.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|token| !token.is_empty())
        .map(|token| {
            let lower = token.to_lowercase().replace('\u{2019}', "'");
            match lower.strip_suffix("'s") {
                Some(stem) if !stem.is_empty() => stem.to_owned(),
                _ => lower,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn splits_and_lowercases() {
        let got: Vec<_> = words("The system's cost (3.14 EUR) isn't 'high'—really!").collect();
        assert_eq!(
            got,
            [
                "the", "system", "cost", "3", "14", "eur", "isn't", "high", "really"
            ]
        );
    }

    #[test]
    fn unicode_words() {
        let got: Vec<_> = words("Über straße, naïve café").collect();
        assert_eq!(got, ["über", "straße", "naïve", "café"]);
    }
}
