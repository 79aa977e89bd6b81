//! The term-frequency method: an extractive summary of the sentences that
//! are densest in the text's most frequent content words.
//!
//! 1. Split the text into sentences and each sentence into lowercase words,
//!    dropping English stop words and one-character tokens.
//! 2. Count each remaining term over the whole text and normalise by the
//!    count of the most frequent term (so the top term weighs 1.0).
//! 3. Score a sentence by the mean normalised frequency of its terms.
//! 4. Keep the `max` best sentences (earlier wins a tie), in text order.

use std::collections::BTreeMap;

/// The `max` best sentences of `text` by term-frequency score, in their
/// original order.
pub fn summarize(text: &str, max: usize) -> Vec<&str> {
    let sentences = textkit::sentences(text);
    if sentences.len() <= max {
        return sentences;
    }
    let terms: Vec<Vec<String>> = sentences.iter().map(|s| content_terms(s)).collect();
    let scores = scores(&terms);
    let mut ranked: Vec<usize> = (0..sentences.len()).collect();
    ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    ranked.truncate(max);
    ranked.sort_unstable();
    ranked.into_iter().map(|i| sentences[i]).collect()
}

/// The words of a sentence that carry content.
fn content_terms(sentence: &str) -> Vec<String> {
    textkit::words(sentence)
        .filter(|w| w.chars().count() > 1 && !textkit::is_stop_word(w))
        .collect()
}

/// Each sentence's mean normalised term frequency.
fn scores(terms: &[Vec<String>]) -> Vec<f64> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for term in terms.iter().flatten() {
        *counts.entry(term.as_str()).or_default() += 1;
    }
    let top = f64::from(counts.values().copied().max().unwrap_or(1));
    terms
        .iter()
        .map(|sentence| {
            if sentence.is_empty() {
                return 0.0;
            }
            let total: f64 = sentence
                .iter()
                .map(|t| f64::from(counts.get(t.as_str()).copied().unwrap_or(0)) / top)
                .sum();
            total / sentence.len() as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::summarize;

    #[test]
    fn picks_dense_sentences_in_order() {
        let text = "We met on a sunny day. Solar panels convert sunlight. \
                    Nothing else happened. Solar panels need sunlight and panels age.";
        assert_eq!(
            summarize(text, 2),
            [
                "Solar panels convert sunlight.",
                "Solar panels need sunlight and panels age."
            ]
        );
    }

    #[test]
    fn short_texts_are_returned_whole() {
        assert_eq!(summarize("One. Two.", 3), ["One.", "Two."]);
        assert!(summarize("", 3).is_empty());
        assert_eq!(summarize("The of and. A an.", 1), ["The of and."]);
    }
}
