//! Text similarity without a model: requests are reduced to stemmed terms
//! (lower case, stop words dropped, Snowball English stemmer), weighted by
//! TF-IDF over the requests at hand, and compared by cosine similarity.

use std::collections::{BTreeMap, HashMap};

use rust_stemmers::{Algorithm, Stemmer};

/// Words that say nothing about what was asked for.
const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "any", "are", "as", "at", "be", "but", "by", "can", "could", "do",
    "does", "for", "from", "get", "give", "have", "help", "how", "i", "if", "in", "into", "is",
    "it", "its", "just", "many", "me", "much", "my", "of", "on", "or", "please", "so", "some",
    "that", "the", "their", "them", "then", "there", "these", "this", "to", "up", "us", "want",
    "was", "we", "what", "when", "which", "with", "would", "you", "your",
];

/// Turns text into stemmed terms.
pub struct Normalizer {
    stemmer: Stemmer,
}

impl Default for Normalizer {
    fn default() -> Self {
        Normalizer {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }
}

impl Normalizer {
    /// The terms of `text`, in order: words of letters and digits (a
    /// capability name like `text.translate` gives `text`, `translat`),
    /// lower-cased, stop words, numbers (arguments, not intent) and
    /// one-letter words dropped, stemmed.
    pub fn terms(&self, text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 1 && !w.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_lowercase)
            .filter(|w| !STOP_WORDS.contains(&w.as_str()))
            .map(|w| self.stemmer.stem(&w).into_owned())
            .collect()
    }
}

/// A sparse, unit-length vector of term weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermVector {
    weights: BTreeMap<u32, f64>,
}

impl TermVector {
    /// The cosine similarity with `other` (both unit length): 0–1.
    pub fn cosine(&self, other: &TermVector) -> f64 {
        let (small, large) = if self.weights.len() <= other.weights.len() {
            (self, other)
        } else {
            (other, self)
        };
        small
            .weights
            .iter()
            .filter_map(|(t, w)| large.weights.get(t).map(|v| w * v))
            .sum::<f64>()
            .clamp(0.0, 1.0)
    }

    /// Whether it has no terms.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Adds `other` into this one (for centroids; call [`normalize`] after).
    ///
    /// [`normalize`]: TermVector::normalize
    pub fn add(&mut self, other: &TermVector) {
        for (t, w) in &other.weights {
            *self.weights.entry(*t).or_default() += w;
        }
    }

    /// Scales to unit length.
    pub fn normalize(&mut self) {
        let norm = self.weights.values().map(|w| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            for w in self.weights.values_mut() {
                *w /= norm;
            }
        }
    }

    /// The term ids with the largest weights, at most `n`.
    pub fn top_terms(&self, n: usize) -> Vec<u32> {
        let mut terms: Vec<(u32, f64)> = self.weights.iter().map(|(t, w)| (*t, *w)).collect();
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        terms.into_iter().take(n).map(|(t, _)| t).collect()
    }
}

/// TF-IDF over a set of documents (the requests and what they are matched
/// against).
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    ids: HashMap<String, u32>,
    terms: Vec<String>,
    document_frequency: Vec<u64>,
    documents: u64,
}

impl Corpus {
    /// Counts the terms of one document.
    pub fn add_document(&mut self, terms: &[String]) {
        self.add_documents(terms, 1);
    }

    /// Counts the terms of `count` identical documents.
    pub fn add_documents(&mut self, terms: &[String], count: u64) {
        self.documents += count;
        let mut seen: Vec<u32> = terms.iter().map(|t| self.id(t)).collect();
        seen.sort_unstable();
        seen.dedup();
        for id in seen {
            self.document_frequency[id as usize] += count;
        }
    }

    fn id(&mut self, term: &str) -> u32 {
        if let Some(id) = self.ids.get(term) {
            return *id;
        }
        let id = self.terms.len() as u32;
        self.ids.insert(term.to_owned(), id);
        self.terms.push(term.to_owned());
        self.document_frequency.push(0);
        id
    }

    /// The unit TF-IDF vector of a document's terms: binary term
    /// frequency (requests are short; a repeated word says little more)
    /// times the square root of the smoothed IDF `1 + ln((1 + n) / (1 + df))`:
    /// rare words count more, but the verb a whole group of requests shares
    /// ("translate") is not discounted so far that the group falls apart.
    /// Unknown terms are ignored.
    pub fn vector(&self, terms: &[String]) -> TermVector {
        let present: std::collections::BTreeSet<u32> = terms
            .iter()
            .filter_map(|t| self.ids.get(t).copied())
            .collect();
        let n = self.documents.max(1) as f64;
        let mut v = TermVector {
            weights: present
                .into_iter()
                .map(|id| {
                    let df = self.document_frequency[id as usize] as f64;
                    (id, (1.0 + ((1.0 + n) / (1.0 + df)).ln().max(0.0)).sqrt())
                })
                .collect(),
        };
        v.normalize();
        v
    }

    /// The term with id `id`.
    pub fn term(&self, id: u32) -> &str {
        self.terms.get(id as usize).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_stemmed_lower_case_and_without_stop_words() {
        let n = Normalizer::default();
        assert_eq!(
            n.terms("Please translate this into French!"),
            ["translat", "french"]
        );
        assert_eq!(n.terms("text.translate"), ["text", "translat"]);
        assert_eq!(n.terms("Translating documents"), ["translat", "document"]);
    }

    fn vectors(docs: &[&str]) -> Vec<TermVector> {
        let n = Normalizer::default();
        let mut corpus = Corpus::default();
        let terms: Vec<Vec<String>> = docs.iter().map(|d| n.terms(d)).collect();
        for t in &terms {
            corpus.add_document(t);
        }
        terms.iter().map(|t| corpus.vector(t)).collect()
    }

    #[test]
    fn similar_requests_are_close_and_different_ones_far() {
        let v = vectors(&[
            "translate this email into French",
            "can you translate the letter to French",
            "convert 5 miles to kilometres",
            "translate to German please",
        ]);
        assert!(v[0].cosine(&v[1]) > 0.5, "{}", v[0].cosine(&v[1]));
        assert!(v[0].cosine(&v[2]) < 0.05);
        assert!((v[0].cosine(&v[0]) - 1.0).abs() < 1e-9);
        let mut centroid = v[0].clone();
        centroid.add(&v[1]);
        centroid.normalize();
        assert!(centroid.cosine(&v[3]) >= 0.3, "{}", centroid.cosine(&v[3]));
    }
}
