//! Subjects (the caller's user or session) are kept only as a hash.

use sha2::{Digest, Sha256};

/// A stable 64-bit hash of a subject; the subject itself is never stored.
pub fn subject_hash(subject: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"selfup-subject\0")
        .chain_update(subject.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

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
