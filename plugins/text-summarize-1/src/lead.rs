//! The lead method: the first sentences are the summary.

/// The first `max` sentences of `text`.
pub fn summarize(text: &str, max: usize) -> Vec<&str> {
    textkit::sentences(text).into_iter().take(max).collect()
}
