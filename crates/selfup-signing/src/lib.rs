//! selfup's package signatures, in minisign's format (Ed25519, prehashed
//! `"ED"` signatures only; legacy `"Ed"` ones are refused).
//!
//! A package is signed by listing every file but `manifest.json` and
//! `manifest.json.minisig` in the manifest's `files` (path → SHA-256) and
//! signing the exact bytes of `manifest.json` with minisign; the signed
//! trusted comment is `selfup-package <name>@<version>`, so a signature
//! cannot be moved to another package or version. Files written by the
//! `minisign` command-line tool and by this crate are interchangeable.
//!
//! This crate needs no wasmtime, so `cargo xtask` signs with it directly;
//! `selfup_plugins::signing` re-exports it and adds verification of a
//! staged package.

mod hash;
mod keys;
mod sign;
mod signature;
mod verify;

pub use hash::{sha256_hex, sha256_hex_reader};
pub use keys::{KeyError, KeyId, PublicKey, SecretKey, generate_keypair};
pub use selfup_core::manifest::{MANIFEST_FILE, SIGNATURE_FILE};
pub use sign::{
    MAX_ZIP_BYTES, SignedPackage, SigningError, sign_bytes, sign_manifest, sign_package, sign_zip,
    write_zip,
};
pub use signature::MAX_SIGNATURE_BYTES;
pub use verify::{
    SignatureError, SignedManifest, Verified, check_files, verify_bytes, verify_signature,
};

use selfup_core::manifest::PluginManifest;

/// The start of every selfup package signature's trusted comment.
pub const TRUSTED_COMMENT_PREFIX: &str = "selfup-package ";

/// The trusted comment a signature of this manifest must carry:
/// `selfup-package <name>@<version>`.
pub fn trusted_comment(manifest: &PluginManifest) -> String {
    format!("{TRUSTED_COMMENT_PREFIX}{}", manifest.id())
}
