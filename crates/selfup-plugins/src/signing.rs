//! Package signatures in minisign's format: keys, signing, and verifying a
//! staged package against the trusted keys.
//!
//! Keys, signing and the signature checks live in the `selfup-signing`
//! crate (no wasmtime, so `cargo xtask` signs with it) and are re-exported
//! here; this module adds [`verify_staged`], which reads the signature and
//! hashes the files of a [`StagedPackage`], and [`verify_dir_or_zip`].
//!
//! A package is signed when `manifest.json.minisig` at its root is a
//! prehashed minisign signature, by a trusted key, over the exact bytes of
//! `manifest.json`, with the trusted comment `selfup-package <name>@<version>`,
//! and that manifest's `files` lists every other file with its SHA-256.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

pub use selfup_signing::*;

use crate::package::{PackageError, StagedPackage, UnpackLimits, stage};

/// Why [`verify_dir_or_zip`] refused a package: it could not be staged, or
/// its signature is refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyPackageError {
    /// Staging refused the package (unsafe entries, no manifest, …).
    #[error("{0}")]
    Package(#[from] PackageError),
    /// The signature or the file list is refused.
    #[error("{0}")]
    Signature(#[from] SignatureError),
}

/// Verifies the signature of a staged package against `trusted`, checking
/// in order: `manifest.json.minisig` is present, parses, is not legacy, was
/// made by a trusted key, verifies over `manifest.json`, names this
/// manifest's `name@version` in its trusted comment; then every staged file
/// (but the manifest and the signature) is listed with a matching SHA-256,
/// none missing, none extra.
pub fn verify_staged(
    staged: &StagedPackage,
    trusted: &[PublicKey],
) -> Result<Verified, SignatureError> {
    let file = |path: &str| staged.files.iter().find(|f| f.path == path);
    let manifest_file = file(MANIFEST_FILE).ok_or_else(|| SignatureError::Read {
        path: MANIFEST_FILE.into(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    let manifest = read_capped(
        &manifest_file.staged_at,
        MANIFEST_FILE,
        selfup_core::manifest::MAX_MANIFEST_BYTES as u64,
    )?;
    let signature = match file(SIGNATURE_FILE) {
        Some(f) => Some(read_capped(
            &f.staged_at,
            SIGNATURE_FILE,
            // One byte over the cap, so the parser reports the size.
            MAX_SIGNATURE_BYTES as u64 + 1,
        )?),
        None => None,
    };
    let signed = verify_signature(&manifest, signature.as_deref(), trusted)?;
    if signed.manifest != staged.manifest {
        return Err(SignatureError::StagingChanged);
    }
    let mut actual = BTreeMap::new();
    for f in &staged.files {
        if f.path == MANIFEST_FILE || f.path == SIGNATURE_FILE {
            continue;
        }
        let read = |e| SignatureError::Read {
            path: f.path.clone(),
            source: e,
        };
        let hash = sha256_hex_reader(File::open(&f.staged_at).map_err(read)?).map_err(read)?;
        actual.insert(f.path.clone(), hash);
    }
    check_files(&signed, &actual)
}

/// Stages the package at `path` (a directory or a `.zip`) into a temporary
/// directory with the default limits, verifies it with [`verify_staged`]
/// and deletes the staging directory.
pub fn verify_dir_or_zip(
    path: &Path,
    trusted: &[PublicKey],
) -> Result<Verified, VerifyPackageError> {
    let root = tempfile::tempdir().map_err(|e| PackageError::Staging {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let staged = stage(path, root.path(), &UnpackLimits::default())?;
    Ok(verify_staged(&staged, trusted)?)
}

/// Reads at most `cap` bytes of a staged file.
fn read_capped(path: &Path, name: &str, cap: u64) -> Result<Vec<u8>, SignatureError> {
    let read = |e| SignatureError::Read {
        path: name.to_owned(),
        source: e,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(read)?
        .take(cap)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
