//! Reading a minisign signature file strictly: four lines — an untrusted
//! comment, base64(`"ED"` ‖ key id[8] ‖ signature[64]), a trusted comment
//! and base64(global signature[64]) over signature ‖ trusted comment.
//!
//! The shapes are checked here before minisign's parser sees the text (it
//! would panic on a short global signature).

use ct_codecs::{Base64, Decoder};

use crate::keys::KeyId;

/// Largest signature file read, in bytes (a real one is about 300 plus the
/// comments).
pub const MAX_SIGNATURE_BYTES: usize = 4096;

const UNTRUSTED_PREFIX: &str = "untrusted comment:";
const TRUSTED_PREFIX: &str = "trusted comment: ";
/// Prehashed Ed25519: signs BLAKE2b-512 of the file.
const PREHASHED: &[u8; 2] = b"ED";
/// Legacy Ed25519: signs the raw file.
const LEGACY: &[u8; 2] = b"Ed";

/// A parsed signature file, not yet verified.
#[derive(Clone)]
pub struct ParsedSignature {
    pub(crate) boxed: minisign::SignatureBox,
    /// The key id the signature claims (unverified until checked).
    pub key_id: KeyId,
    /// The trusted comment as written (unverified until checked).
    pub trusted_comment: String,
}

/// Why a signature file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not minisign's format; the text says what is wrong.
    Malformed(String),
    /// A well-formed legacy (`"Ed"`) signature, made by this key.
    Legacy(KeyId),
}

/// Parses the bytes of a `.minisig` file.
pub fn parse_signature(bytes: &[u8]) -> Result<ParsedSignature, ParseError> {
    let bad = |what: &str| ParseError::Malformed(what.to_owned());
    if bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(ParseError::Malformed(format!(
            "it is {} bytes; a signature file is at most {MAX_SIGNATURE_BYTES}",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text"))?;
    let mut lines = text.lines();
    let mut next = |what: &str| {
        lines
            .next()
            .ok_or_else(|| ParseError::Malformed(format!("it ends before the {what} line")))
    };
    let untrusted = next("untrusted comment")?;
    let signature = next("signature")?;
    let trusted = next("trusted comment")?;
    let global = next("global signature")?;
    if lines.any(|l| !l.trim().is_empty()) {
        return Err(bad("it has text after the global signature line"));
    }
    if !untrusted.starts_with(UNTRUSTED_PREFIX) {
        return Err(bad(
            "its first line does not start with \"untrusted comment:\"",
        ));
    }
    if !trusted.starts_with(TRUSTED_PREFIX) {
        return Err(bad(
            "its third line does not start with \"trusted comment: \"",
        ));
    }
    let signature = Base64::decode_to_vec(signature.trim(), None)
        .map_err(|_| bad("its signature line is not base64"))?;
    if signature.len() != 2 + 8 + 64 {
        return Err(ParseError::Malformed(format!(
            "its signature line decodes to {} bytes, not 74",
            signature.len()
        )));
    }
    let key_id = KeyId::from_slice(&signature[2..10]).ok_or_else(|| bad("no key id"))?;
    let algorithm = &signature[..2];
    if algorithm == LEGACY {
        return Err(ParseError::Legacy(key_id));
    }
    if algorithm != PREHASHED {
        return Err(ParseError::Malformed(format!(
            "its signature algorithm is {:?}, not \"ED\" (prehashed Ed25519)",
            String::from_utf8_lossy(algorithm)
        )));
    }
    let global = Base64::decode_to_vec(global.trim(), None)
        .map_err(|_| bad("its global signature line is not base64"))?;
    if global.len() != 64 {
        return Err(ParseError::Malformed(format!(
            "its global signature decodes to {} bytes, not 64",
            global.len()
        )));
    }
    let boxed = minisign::SignatureBox::from_string(text)
        .map_err(|e| ParseError::Malformed(e.to_string()))?;
    let trusted_comment = boxed
        .trusted_comment()
        .map_err(|e| ParseError::Malformed(e.to_string()))?;
    Ok(ParsedSignature {
        boxed,
        key_id,
        trusted_comment,
    })
}
