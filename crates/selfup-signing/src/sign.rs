//! Signing a package: compute the `files` list (every file but
//! `manifest.json` and `manifest.json.minisig`, with its SHA-256), rewrite
//! `manifest.json` with it, and sign the exact bytes of `manifest.json`
//! with the trusted comment `selfup-package <name>@<version>`.
//!
//! The rewritten manifest is the validated [`PluginManifest`] serialised
//! pretty-printed: every default is written out, so what is signed is
//! exactly what selfup enforces, whatever later versions take as defaults.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use selfup_core::manifest::{MANIFEST_FILE, ManifestError, PluginManifest, SIGNATURE_FILE};
use zip::read::{ArchiveOffset, Config};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::hash::{sha256_hex, sha256_hex_reader};
use crate::keys::{KeyId, SecretKey};
use crate::trusted_comment;

/// Largest total of file bytes [`sign_zip`] reads into memory.
pub const MAX_ZIP_BYTES: u64 = 256 * 1024 * 1024;

/// Why a package could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The package has no `manifest.json` at its root.
    #[error(
        "cannot sign {}: it has no {MANIFEST_FILE} at its root; a package is a directory or a .zip holding {MANIFEST_FILE} and the files it names",
        path.display()
    )]
    NoManifest {
        /// The package.
        path: PathBuf,
    },
    /// The manifest is refused (signing validates it, `files` included).
    #[error("cannot sign: {0}")]
    Manifest(#[from] ManifestError),
    /// A file of the package cannot be part of a package.
    #[error("cannot sign: the package file {path:?} is refused: {reason}")]
    UnsafeFile {
        /// The package-relative path (lossy).
        path: String,
        /// Why.
        reason: String,
    },
    /// The zip archive cannot be read.
    #[error("cannot sign {}: not a valid zip archive ({detail})", path.display())]
    NotAZip {
        /// The archive.
        path: PathBuf,
        /// What the zip reader said.
        detail: String,
    },
    /// The zip archive holds more than [`MAX_ZIP_BYTES`].
    #[error(
        "cannot sign {}: it holds more than {MAX_ZIP_BYTES} bytes uncompressed",
        path.display()
    )]
    TooLarge {
        /// The archive.
        path: PathBuf,
    },
    /// Reading a file failed.
    #[error("cannot sign: reading {} failed: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Writing the manifest, signature or zip failed.
    #[error("cannot sign: writing {} failed: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// minisign refused to sign.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A signed manifest: the bytes to store as `manifest.json` and as
/// `manifest.json.minisig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPackage {
    /// The new `manifest.json`, with its `files` list.
    pub manifest_json: Vec<u8>,
    /// The `manifest.json.minisig` file.
    pub signature: Vec<u8>,
    /// The key that signed.
    pub key_id: KeyId,
    /// `name@version` of the package.
    pub package: String,
    /// How many files the `files` list holds.
    pub files: usize,
}

/// Sets `files` in the manifest `manifest_json`, validates it, serialises it
/// pretty-printed and signs those bytes. `files` maps every package file but
/// `manifest.json` and `manifest.json.minisig` to its lowercase hex SHA-256.
pub fn sign_manifest(
    manifest_json: &[u8],
    files: BTreeMap<String, String>,
    secret: &SecretKey,
) -> Result<SignedPackage, SigningError> {
    let mut manifest = PluginManifest::from_json(manifest_json)?;
    manifest.files = files;
    manifest.validate()?;
    let mut bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| SigningError::Sign(format!("cannot serialise the manifest: {e}")))?;
    bytes.push(b'\n');
    // What we write must be what verification will read.
    if PluginManifest::from_json(&bytes)? != manifest {
        return Err(SigningError::Sign(
            "the rewritten manifest does not read back the same; please report this".into(),
        ));
    }
    let signature = sign_bytes(&bytes, secret, &trusted_comment(&manifest))?;
    Ok(SignedPackage {
        manifest_json: bytes,
        signature,
        key_id: secret.key_id(),
        package: manifest.id(),
        files: manifest.files.len(),
    })
}

/// Signs `data` with a prehashed minisign signature carrying
/// `trusted_comment` (one line) and returns the `.minisig` file's bytes,
/// as `minisign -S -t COMMENT` writes them.
pub fn sign_bytes(
    data: &[u8],
    secret: &SecretKey,
    trusted_comment: &str,
) -> Result<Vec<u8>, SigningError> {
    if trusted_comment.contains(['\n', '\r']) || trusted_comment.trim() != trusted_comment {
        return Err(SigningError::Sign(format!(
            "the trusted comment {trusted_comment:?} must be one line without surrounding spaces"
        )));
    }
    let untrusted = format!("selfup signature, key {}", secret.key_id());
    let signature = minisign::sign(
        Some(secret.public_key().inner()),
        secret.inner(),
        data,
        Some(trusted_comment),
        Some(&untrusted),
    )
    .map_err(|e| SigningError::Sign(e.to_string()))?;
    Ok(signature.to_bytes())
}

/// Signs the unpacked package in `dir`: lists and hashes its files, rewrites
/// `manifest.json` (pretty-printed, with `files`) and writes
/// `manifest.json.minisig`. A previous signature is replaced. Links and
/// special files are refused, not followed.
pub fn sign_package(dir: &Path, secret: &SecretKey) -> Result<SignedPackage, SigningError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let meta = std::fs::symlink_metadata(&manifest_path).map_err(|_| SigningError::NoManifest {
        path: dir.to_owned(),
    })?;
    if !meta.is_file() {
        return Err(SigningError::UnsafeFile {
            path: MANIFEST_FILE.into(),
            reason: "it is not a regular file".into(),
        });
    }
    let manifest = std::fs::read(&manifest_path).map_err(|e| SigningError::Read {
        path: manifest_path.clone(),
        source: e,
    })?;
    let mut files = BTreeMap::new();
    hash_directory(dir, "", &mut files)?;
    let signed = sign_manifest(&manifest, files, secret)?;
    write_atomically(dir, MANIFEST_FILE, &signed.manifest_json)?;
    write_atomically(dir, SIGNATURE_FILE, &signed.signature)?;
    Ok(signed)
}

/// Signs the zip package `src` into `dest` (which may be `src`): the same
/// files, `manifest.json` rewritten with `files`, `manifest.json.minisig`
/// added (a previous one is replaced). Entries are written in a fixed order
/// — `manifest.json`, `manifest.json.minisig`, then the rest by path — with
/// fixed timestamps and permissions; directory entries are dropped.
pub fn sign_zip(
    src: &Path,
    dest: &Path,
    secret: &SecretKey,
) -> Result<SignedPackage, SigningError> {
    let entries = read_zip(src)?;
    let manifest = entries
        .get(MANIFEST_FILE)
        .ok_or_else(|| SigningError::NoManifest {
            path: src.to_owned(),
        })?;
    let files: BTreeMap<String, String> = entries
        .iter()
        .filter(|(path, _)| path.as_str() != MANIFEST_FILE && path.as_str() != SIGNATURE_FILE)
        .map(|(path, bytes)| (path.clone(), sha256_hex(bytes)))
        .collect();
    let signed = sign_manifest(manifest, files, secret)?;
    let mut ordered: Vec<(&str, &[u8])> = vec![
        (MANIFEST_FILE, &signed.manifest_json),
        (SIGNATURE_FILE, &signed.signature),
    ];
    ordered.extend(
        entries
            .iter()
            .filter(|(path, _)| path.as_str() != MANIFEST_FILE && path.as_str() != SIGNATURE_FILE)
            .map(|(path, bytes)| (path.as_str(), bytes.as_slice())),
    );
    write_zip(dest, &ordered)?;
    Ok(signed)
}

/// Writes a zip package at `dest` (via a temporary file and a rename) with
/// `entries` in the given order, deflated, with fixed timestamps and
/// permissions, so equal input gives equal bytes.
pub fn write_zip(dest: &Path, entries: &[(&str, &[u8])]) -> Result<(), SigningError> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let failed = |e: std::io::Error| SigningError::Write {
        path: dest.to_owned(),
        source: e,
    };
    let temp = tempfile::NamedTempFile::new_in(parent).map_err(failed)?;
    let mut zip = ZipWriter::new(temp);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in entries {
        zip.start_file(*name, options)
            .map_err(|e| failed(std::io::Error::other(e)))?;
        zip.write_all(bytes).map_err(failed)?;
    }
    let temp = zip.finish().map_err(|e| failed(std::io::Error::other(e)))?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(dest).map_err(|e| failed(e.error))?;
    Ok(())
}

/// Adds every regular file under `dir` (except the root's manifest and
/// signature) to `files` with its hash.
fn hash_directory(
    dir: &Path,
    prefix: &str,
    files: &mut BTreeMap<String, String>,
) -> Result<(), SigningError> {
    let read = |path: &Path, e| SigningError::Read {
        path: path.to_owned(),
        source: e,
    };
    for entry in std::fs::read_dir(dir).map_err(|e| read(dir, e))? {
        let entry = entry.map_err(|e| read(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_str().ok_or_else(|| SigningError::UnsafeFile {
            path: format!("{prefix}{}", name.to_string_lossy()),
            reason: "its name is not valid UTF-8".into(),
        })?;
        let rel = format!("{prefix}{name}");
        let meta = std::fs::symlink_metadata(&path).map_err(|e| read(&path, e))?;
        if meta.file_type().is_symlink() {
            return Err(SigningError::UnsafeFile {
                path: rel,
                reason: "it is a symbolic link; packages hold regular files only".into(),
            });
        }
        if meta.is_dir() {
            hash_directory(&path, &format!("{rel}/"), files)?;
            continue;
        }
        if !meta.is_file() {
            return Err(SigningError::UnsafeFile {
                path: rel,
                reason: "it is not a regular file".into(),
            });
        }
        if rel == MANIFEST_FILE || rel == SIGNATURE_FILE {
            continue;
        }
        let file = File::open(&path).map_err(|e| read(&path, e))?;
        let hash = sha256_hex_reader(file).map_err(|e| read(&path, e))?;
        files.insert(rel, hash);
    }
    Ok(())
}

/// Replaces `dir/name` with `bytes` via a temporary file and a rename.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SigningError> {
    let path = dir.join(name);
    let failed = |e: std::io::Error| SigningError::Write {
        path: path.clone(),
        source: e,
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    temp.write_all(bytes).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(&path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// Reads every file entry of the zip at `src` into memory, by path.
fn read_zip(src: &Path) -> Result<BTreeMap<String, Vec<u8>>, SigningError> {
    let file = File::open(src).map_err(|e| SigningError::Read {
        path: src.to_owned(),
        source: e,
    })?;
    let not_zip = |e: zip::result::ZipError| SigningError::NotAZip {
        path: src.to_owned(),
        detail: e.to_string(),
    };
    let config = Config {
        archive_offset: ArchiveOffset::Known(0),
    };
    let mut archive =
        ZipArchive::with_config(config, std::io::BufReader::new(file)).map_err(not_zip)?;
    let mut entries = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(not_zip)?;
        let lossy = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let refuse = |reason: &str| SigningError::UnsafeFile {
            path: lossy.clone(),
            reason: reason.to_owned(),
        };
        let name = std::str::from_utf8(entry.name_raw())
            .map_err(|_| refuse("its name is not valid UTF-8"))?
            .to_owned();
        if entry.is_dir() {
            continue;
        }
        const S_IFMT: u32 = 0o170000;
        const S_IFLNK: u32 = 0o120000;
        if entry.is_symlink() || entry.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK) {
            return Err(refuse(
                "it is a symbolic link; packages hold regular files only",
            ));
        }
        if entry.encrypted() {
            return Err(refuse("it is encrypted"));
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(refuse("another entry has the same name (ignoring case)"));
        }
        let declared = entry.size();
        total = total.saturating_add(declared);
        if total > MAX_ZIP_BYTES {
            return Err(SigningError::TooLarge {
                path: src.to_owned(),
            });
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(declared.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| refuse(&format!("its data does not decompress cleanly ({e})")))?;
        if bytes.len() as u64 != declared {
            return Err(refuse(&format!(
                "it holds {}+ bytes but declares {declared}",
                bytes.len()
            )));
        }
        entries.insert(name, bytes);
    }
    Ok(entries)
}
