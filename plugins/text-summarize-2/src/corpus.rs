//! Keyword recall of the term-frequency method against 1.0.0's lead method
//! on the shared corpus `plugins/testdata/summaries.json`.

use serde_json::Value;

/// The corpus: texts whose key content is not in the lead sentences.
const CORPUS: &str = include_str!("../../testdata/summaries.json");

/// The share of `keywords` that start some word of `summary`.
fn recall(summary: &[&str], keywords: &[&str]) -> f64 {
    let words: Vec<String> = summary.iter().flat_map(|s| textkit::words(s)).collect();
    let found = keywords
        .iter()
        .filter(|k| words.iter().any(|w| w.starts_with(*k)))
        .count();
    found as f64 / keywords.len() as f64
}

/// Mean keyword recall of `method` over the corpus.
fn mean_recall(method: impl Fn(&str, usize) -> Vec<&str>) -> f64 {
    let corpus: Value = serde_json::from_str(CORPUS).expect("corpus is valid JSON");
    let texts = corpus["texts"].as_array().expect("corpus has texts");
    assert!(texts.len() >= 10, "corpus too small");
    let total: f64 = texts
        .iter()
        .map(|entry| {
            let text = entry["text"].as_str().expect("text");
            let max = entry["max_sentences"].as_u64().expect("max_sentences") as usize;
            let keywords: Vec<&str> = entry["keywords"]
                .as_array()
                .expect("keywords")
                .iter()
                .map(|k| k.as_str().expect("keyword"))
                .collect();
            recall(&method(text, max), &keywords)
        })
        .sum();
    total / texts.len() as f64
}

/// 1.0.0's method: the first `max` sentences.
fn lead(text: &str, max: usize) -> Vec<&str> {
    textkit::sentences(text).into_iter().take(max).collect()
}

#[test]
fn tf_beats_lead_on_keyword_recall() {
    let lead_recall = mean_recall(lead);
    let tf_recall = mean_recall(crate::tf::summarize);
    println!("keyword recall: lead (1.0.0) {lead_recall:.3}, tf (2.0.0) {tf_recall:.3}");
    assert!(
        tf_recall >= lead_recall + 0.25,
        "tf recall {tf_recall:.3} should clearly beat lead recall {lead_recall:.3}"
    );
}
