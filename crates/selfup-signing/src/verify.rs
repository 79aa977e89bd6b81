//! Verifying a package's signature, in a fixed order, each refusal its own
//! [`SignatureError`]: the signature file is present, parses, is not
//! legacy, was made by a trusted key, verifies over the exact bytes of
//! `manifest.json` (and its trusted comment verifies), the trusted comment
//! names this manifest's `name@version`; then every file of the package is
//! listed in the signed manifest's `files` with a matching hash, none
//! missing, none extra.

use std::collections::BTreeMap;
use std::io::Cursor;

use selfup_core::manifest::{MANIFEST_FILE, ManifestError, PluginManifest, SIGNATURE_FILE};

use crate::keys::{KeyId, PublicKey};
use crate::signature::{ParseError, parse_signature};
use crate::trusted_comment;

/// Why a package's signature was refused. Each message says what is wrong
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The package has no `manifest.json.minisig`.
    #[error(
        "{package} is unsigned: it has no {SIGNATURE_FILE}; sign it with a key this selfup trusts (`selfup plugin sign`), or install only packages from a publisher whose key is in security.trusted_keys"
    )]
    Unsigned {
        /// `name@version` of the package.
        package: String,
    },
    /// The signature file is not minisign's format.
    #[error(
        "{package}: {SIGNATURE_FILE} is not a valid minisign signature ({detail}); the package is damaged or was tampered with — fetch it again or re-sign it"
    )]
    Malformed {
        /// `name@version` of the package.
        package: String,
        /// What is wrong with the file.
        detail: String,
    },
    /// A legacy (`"Ed"`, not prehashed) signature.
    #[error(
        "{package}: {SIGNATURE_FILE} is a legacy minisign signature (algorithm \"Ed\", key {key_id}); selfup accepts only prehashed signatures (\"ED\") — re-sign with `selfup plugin sign` or `minisign -S` without -l"
    )]
    Legacy {
        /// `name@version` of the package.
        package: String,
        /// The key that made it.
        key_id: KeyId,
    },
    /// The signing key is not one of the trusted keys.
    #[error(
        "{package} is signed by key {key_id}, which is not trusted (trusted: {}); add that public key to security.trusted_keys only if you trust its owner, or get the package signed by a trusted key",
        list_keys(trusted)
    )]
    UntrustedKey {
        /// `name@version` of the package.
        package: String,
        /// The key that signed.
        key_id: KeyId,
        /// The trusted keys' ids.
        trusted: Vec<KeyId>,
    },
    /// The signature does not match the bytes of `manifest.json`.
    #[error(
        "{package}: the signature by key {key_id} does not match {MANIFEST_FILE}: the manifest was changed after signing; do not install it — re-sign it if you changed it yourself"
    )]
    ManifestTampered {
        /// `name@version` of the package.
        package: String,
        /// The key that signed.
        key_id: KeyId,
    },
    /// The signature's trusted comment was altered after signing.
    #[error(
        "{package}: the trusted comment of {SIGNATURE_FILE} was altered after signing (its global signature by key {key_id} does not verify); do not install it — fetch it again or re-sign it"
    )]
    CommentTampered {
        /// `name@version` of the package.
        package: String,
        /// The key that signed.
        key_id: KeyId,
    },
    /// The trusted comment names another package or version.
    #[error(
        "{package}: the signature was made for {found:?}, not {expected:?}: it belongs to another package or version and was moved here; do not install it — sign this package itself"
    )]
    WrongPackage {
        /// `name@version` of the package.
        package: String,
        /// The trusted comment this package needs.
        expected: String,
        /// The trusted comment found.
        found: String,
    },
    /// A file differs from the hash in the signed manifest.
    #[error(
        "{package}: {path} was changed after signing (SHA-256 {found}, the signed manifest lists {expected}); do not install it — fetch it again or re-sign it"
    )]
    FileAltered {
        /// `name@version` of the package.
        package: String,
        /// The package-relative path.
        path: String,
        /// The hash in the signed manifest.
        expected: String,
        /// The hash of the file.
        found: String,
    },
    /// A file listed in the signed manifest is not in the package.
    #[error(
        "{package}: {path} is listed in the signed manifest but missing from the package; do not install it — fetch the complete package again"
    )]
    FileMissing {
        /// `name@version` of the package.
        package: String,
        /// The package-relative path.
        path: String,
    },
    /// A file of the package is not listed in the signed manifest.
    #[error(
        "{package}: {path} is in the package but not listed in the signed manifest's files (added after signing); do not install it — remove the file, or re-sign the package if it belongs there"
    )]
    FileUnlisted {
        /// `name@version` of the package.
        package: String,
        /// The package-relative path.
        path: String,
    },
    /// `manifest.json` itself is refused.
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    /// A staged file could not be read.
    #[error("cannot read {path} of the staged package: {source}")]
    Read {
        /// The package-relative path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The staged manifest differs from the signed bytes.
    #[error(
        "{MANIFEST_FILE} changed in the staging directory after it was read; stage the package again"
    )]
    StagingChanged,
}

fn list_keys(keys: &[KeyId]) -> String {
    if keys.is_empty() {
        return "none — security.trusted_keys is empty".to_owned();
    }
    keys.iter()
        .map(KeyId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A manifest whose signature verified with a trusted key.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The manifest parsed from the signed bytes.
    pub manifest: PluginManifest,
    /// The trusted key that signed it.
    pub key_id: KeyId,
    /// The signed trusted comment, `selfup-package name@version`.
    pub trusted_comment: String,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The trusted key that signed the package.
    pub key_id: KeyId,
    /// `name@version` of the package.
    pub package: String,
    /// The signed trusted comment.
    pub trusted_comment: String,
    /// How many files the signature covers besides `manifest.json`.
    pub files: usize,
}

/// Checks the signature over `manifest` (the exact bytes of
/// `manifest.json`): present, parses, not legacy, made by one of
/// `trusted`, verifies, and its trusted comment names the manifest's
/// `name@version`. `signature` is the `.minisig` file's bytes, if any.
pub fn verify_signature(
    manifest: &[u8],
    signature: Option<&[u8]>,
    trusted: &[PublicKey],
) -> Result<SignedManifest, SignatureError> {
    let parsed_manifest = PluginManifest::from_json(manifest)?;
    let package = parsed_manifest.id();
    let (key_id, comment) = verify_detached(manifest, signature, trusted, &package)?;
    let expected = trusted_comment(&parsed_manifest);
    if comment != expected {
        return Err(SignatureError::WrongPackage {
            package,
            expected,
            found: comment,
        });
    }
    Ok(SignedManifest {
        manifest: parsed_manifest,
        key_id,
        trusted_comment: comment,
    })
}

/// Checks a detached signature over any `data` (a catalog index, say):
/// present, parses, not legacy, made by one of `trusted`, verifies, and
/// its trusted comment is exactly `expected_comment`. `what` names the
/// data in messages. Returns the key that signed.
pub fn verify_bytes(
    data: &[u8],
    signature: Option<&[u8]>,
    trusted: &[PublicKey],
    expected_comment: &str,
    what: &str,
) -> Result<KeyId, SignatureError> {
    let (key_id, comment) = verify_detached(data, signature, trusted, what)?;
    if comment != expected_comment {
        return Err(SignatureError::WrongPackage {
            package: what.to_owned(),
            expected: expected_comment.to_owned(),
            found: comment,
        });
    }
    Ok(key_id)
}

/// The signature checks shared by packages and other data; returns the
/// signing key and the (verified) trusted comment.
fn verify_detached(
    data: &[u8],
    signature: Option<&[u8]>,
    trusted: &[PublicKey],
    what: &str,
) -> Result<(KeyId, String), SignatureError> {
    let package = what.to_owned();
    let manifest = data;
    let signature = signature.ok_or_else(|| SignatureError::Unsigned {
        package: package.clone(),
    })?;
    let parsed = parse_signature(signature).map_err(|e| match e {
        ParseError::Malformed(detail) => SignatureError::Malformed {
            package: package.clone(),
            detail,
        },
        ParseError::Legacy(key_id) => SignatureError::Legacy {
            package: package.clone(),
            key_id,
        },
    })?;
    let key_id = parsed.key_id;
    let candidates: Vec<&PublicKey> = trusted.iter().filter(|k| k.key_id() == key_id).collect();
    if candidates.is_empty() {
        return Err(SignatureError::UntrustedKey {
            package,
            key_id,
            trusted: trusted.iter().map(PublicKey::key_id).collect(),
        });
    }
    // The data signature alone first (a box without its trusted comment),
    // then the whole: tells a changed manifest from a changed comment.
    let bones: minisign::SignatureBox = minisign::SignatureBones::from(parsed.boxed.clone()).into();
    let verify = |key: &PublicKey, boxed: &minisign::SignatureBox| {
        minisign::verify(
            key.inner(),
            boxed,
            Cursor::new(manifest),
            true,
            false,
            false,
        )
        .is_ok()
    };
    let Some(key) = candidates.iter().find(|k| verify(k, &bones)) else {
        return Err(SignatureError::ManifestTampered { package, key_id });
    };
    if !verify(key, &parsed.boxed) {
        return Err(SignatureError::CommentTampered { package, key_id });
    }
    Ok((key_id, parsed.trusted_comment))
}

/// Checks the package's files against the signed manifest's `files`:
/// `actual` maps every package-relative path to its lowercase hex SHA-256
/// (`manifest.json` and `manifest.json.minisig` are ignored if present).
/// Altered files are reported first, then missing, then unlisted ones.
pub fn check_files(
    signed: &SignedManifest,
    actual: &BTreeMap<String, String>,
) -> Result<Verified, SignatureError> {
    let package = signed.manifest.id();
    let listed = &signed.manifest.files;
    let actual: BTreeMap<&String, &String> = actual
        .iter()
        .filter(|(path, _)| path.as_str() != MANIFEST_FILE && path.as_str() != SIGNATURE_FILE)
        .collect();
    for (path, expected) in listed {
        if let Some(found) = actual.get(path)
            && *found != expected
        {
            return Err(SignatureError::FileAltered {
                package,
                path: path.clone(),
                expected: expected.clone(),
                found: (*found).clone(),
            });
        }
    }
    if let Some(path) = listed.keys().find(|p| !actual.contains_key(p)) {
        return Err(SignatureError::FileMissing {
            package,
            path: path.clone(),
        });
    }
    if let Some(path) = actual.keys().find(|p| !listed.contains_key(p.as_str())) {
        return Err(SignatureError::FileUnlisted {
            package,
            path: (*path).clone(),
        });
    }
    Ok(Verified {
        key_id: signed.key_id,
        package,
        trusted_comment: signed.trusted_comment.clone(),
        files: listed.len(),
    })
}
