//! Discovery: what could be better, from evidence.
//!
//! - [`code`]: patterns in source code — clones across files and languages
//!   (exact, renamed, near-miss) and abstraction gaps — parsed with
//!   tree-sitter.
//!
//! Every finding is a [`selfup_core::pattern::Pattern`], ranked by the
//! specification's opportunity score.

pub mod code;
