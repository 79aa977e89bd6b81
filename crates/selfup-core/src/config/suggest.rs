//! "Did you mean": the nearest of a set of allowed words.

/// The allowed word closest to `word`, if it is close enough to be a likely typo.
///
/// A word that differs only in case always matches; otherwise the edit distance may be
/// at most a third of the word's length (at least 1).
pub(crate) fn nearest<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    if let Some(same) = allowed.iter().find(|a| a.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    let limit = (word.chars().count() / 3).max(1);
    allowed
        .iter()
        .map(|a| (edit_distance(word, a), *a))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Levenshtein distance, counting an adjacent transposition as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]; three rows suffice for transpositions.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("interval_minute", "interval_minutes"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_close_words_only() {
        let keys = ["enabled", "interval_minutes", "max_concurrent_upgrades"];
        assert_eq!(nearest("interval_minute", &keys), Some("interval_minutes"));
        assert_eq!(nearest("enabeld", &keys), Some("enabled"));
        assert_eq!(nearest("colour", &keys), None);
        assert_eq!(nearest("info", &["DEBUG", "INFO"]), Some("INFO"));
    }
}
