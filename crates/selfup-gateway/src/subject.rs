//! Subjects (the caller's user or session) are kept only as a hash.

pub use selfup_core::telemetry::subject_hash;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_distinct() {
        assert_eq!(subject_hash("alice"), subject_hash("alice"));
        assert_ne!(subject_hash("alice"), subject_hash("bob"));
        assert_ne!(subject_hash(""), 0);
    }
}
