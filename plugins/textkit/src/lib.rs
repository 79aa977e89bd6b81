//! Small, dependency-free text utilities shared by the text plugins:
//! sentence splitting ([`sentences`]), word tokenising ([`words`]) and a
//! built-in English stop-word list ([`is_stop_word`]).

mod sentences;
mod stopwords;
mod words;

pub use sentences::sentences;
pub use stopwords::is_stop_word;
pub use words::words;
