//! Fast, deterministic 64-bit hashing of token sequences (the index keys).
//!
//! A multiply-fold mix per element (as in wyhash): one 64×64→128 multiply
//! per token, no allocation. These hashes key buckets only; groups are
//! verified token by token, so a collision never makes a false clone. Pattern
//! ids use SHA-256 over symbol names instead (stable across versions).

const K0: u64 = 0x9E37_79B9_7F4A_7C15;
const K1: u64 = 0xBF58_476D_1CE4_E5B9;

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let r = u128::from(a).wrapping_mul(u128::from(b));
    (r as u64) ^ ((r >> 64) as u64)
}

/// Adds one value to a running hash.
#[inline]
pub fn push(h: u64, x: u64) -> u64 {
    fold(h ^ x, K0)
}

/// The seed of a running hash.
pub const SEED: u64 = K1;

/// Hashes a slice of 16-bit symbols.
#[inline]
pub fn symbols(s: &[u16]) -> u64 {
    let mut h = SEED ^ s.len() as u64;
    for &x in s {
        h = push(h, u64::from(x));
    }
    fold(h, K1)
}

/// Hashes a slice of 32- or 64-bit values.
#[inline]
pub fn values<T: Copy + Into<u64>>(s: &[T]) -> u64 {
    let mut h = SEED ^ s.len() as u64;
    for &x in s {
        h = push(h, x.into());
    }
    fold(h, K1)
}

/// Hashes bytes (a token's text), 8 at a time.
#[inline]
pub fn bytes(b: &[u8]) -> u64 {
    let mut h = SEED ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = push(h, u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = push(h, u64::from_le_bytes(w));
    }
    fold(h, K1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_inputs_hash_equal_and_order_matters() {
        assert_eq!(symbols(&[1, 2, 3]), symbols(&[1, 2, 3]));
        assert_ne!(symbols(&[1, 2, 3]), symbols(&[3, 2, 1]));
        assert_ne!(symbols(&[1, 2]), symbols(&[1, 2, 0]));
        assert_eq!(bytes(b"parse_header"), bytes(b"parse_header"));
        assert_ne!(bytes(b"parse_header"), bytes(b"parse_headex"));
        assert_ne!(bytes(b"a"), bytes(b"a\0"));
        assert_ne!(values(&[1u64, 2]), values(&[2u64, 1]));
    }
}
