//! Plugin packages: a directory or a `.zip` holding `manifest.json` and the
//! files it names. [`stage`] copies a package into a fresh staging
//! directory, refusing anything that could write outside it (`..`,
//! absolute names, links, device names), duplicate names, and oversized or
//! overcompressed content, then parses the manifest.
//!
//! Nothing is written outside the staging directory, and the staging
//! directory is deleted when the [`StagedPackage`] is dropped.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use selfup_core::manifest::{MAX_MANIFEST_BYTES, ManifestError, PluginManifest};
use zip::ZipArchive;
use zip::read::{ArchiveOffset, Config};

/// Caps applied while unpacking.
#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    /// Total uncompressed bytes of all files.
    pub max_total_bytes: u64,
    /// Number of entries.
    pub max_entries: usize,
    /// Uncompressed / compressed size of any one zip entry.
    pub max_compression_ratio: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        Self {
            max_total_bytes: 256 * 1024 * 1024,
            max_entries: 10_000,
            max_compression_ratio: 200,
        }
    }
}

/// Why a package was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Nothing exists at the given path.
    #[error(
        "there is nothing at {0}; give the path of a package directory or .zip (see `cargo xtask plugins` for examples)"
    )]
    Missing(PathBuf),
    /// The package could not be read at all.
    #[error("cannot read the package {path}: {source}")]
    Unreadable {
        /// The package path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a zip archive we accept.
    #[error(
        "{path} is not a valid zip archive ({detail}); a package is a directory or a .zip holding manifest.json"
    )]
    NotAZip {
        /// The package path.
        path: PathBuf,
        /// What the zip reader said.
        detail: String,
    },
    /// An entry that could escape the staging directory or is otherwise unsafe.
    #[error("the package entry {name:?} is refused: {reason}")]
    UnsafeEntry {
        /// The entry's raw name (lossy UTF-8).
        name: String,
        /// Why.
        reason: String,
    },
    /// The archive as a whole is built to deceive (duplicates, overlaps).
    #[error("the archive is refused: {0}")]
    UnsafeArchive(String),
    /// A size or count cap was exceeded.
    #[error("the package is too large: {0}")]
    TooLarge(String),
    /// `manifest.json` is missing or refused.
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    /// The manifest names an entry point the package does not contain.
    #[error(
        "manifest.json names entry_point {0:?}, but the package has no such file; add it or correct entry_point"
    )]
    MissingEntryPoint(String),
    /// Writing into the staging directory failed.
    #[error("staging failed at {path}: {source}")]
    Staging {
        /// The path being written.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// One file of a staged package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Package-relative path with `/` separators.
    pub path: String,
    /// Where it is in the staging directory.
    pub staged_at: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// A package unpacked into a private staging directory, with its manifest.
#[derive(Debug)]
pub struct StagedPackage {
    dir: tempfile::TempDir,
    /// The parsed, validated manifest.
    pub manifest: PluginManifest,
    /// Every file, sorted by path.
    pub files: Vec<StagedFile>,
}

impl StagedPackage {
    /// The staging directory (deleted when this value is dropped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The staged entry point file.
    pub fn entry_point(&self) -> Option<&StagedFile> {
        self.files
            .iter()
            .find(|f| f.path == self.manifest.entry_point)
    }
}

/// Copies the package at `source` (directory or zip) into a new directory
/// under `staging_root` and parses its manifest.
pub fn stage(
    source: &Path,
    staging_root: &Path,
    limits: &UnpackLimits,
) -> Result<StagedPackage, PackageError> {
    std::fs::create_dir_all(staging_root).map_err(|e| PackageError::Staging {
        path: staging_root.to_owned(),
        source: e,
    })?;
    let dir = tempfile::Builder::new()
        .prefix("stage-")
        .tempdir_in(staging_root)
        .map_err(|e| PackageError::Staging {
            path: staging_root.to_owned(),
            source: e,
        })?;
    let meta = std::fs::metadata(source).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PackageError::Missing(source.to_owned()),
        _ => PackageError::Unreadable {
            path: source.to_owned(),
            source: e,
        },
    })?;
    let mut files = if meta.is_dir() {
        stage_directory(source, dir.path(), limits)?
    } else {
        stage_zip(source, dir.path(), limits)?
    };
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest_file = files
        .iter()
        .find(|f| f.path == "manifest.json")
        .ok_or_else(|| {
            PackageError::Manifest(ManifestError {
                field: String::new(),
                message:
                    "the package has no manifest.json at its root; add one describing the plugin"
                        .into(),
                position: None,
            })
        })?;
    if manifest_file.size > MAX_MANIFEST_BYTES as u64 {
        return Err(PackageError::Manifest(ManifestError {
            field: String::new(),
            message: format!(
                "it is {} bytes; the limit is {MAX_MANIFEST_BYTES} bytes",
                manifest_file.size
            ),
            position: None,
        }));
    }
    let bytes = std::fs::read(&manifest_file.staged_at).map_err(|e| PackageError::Staging {
        path: manifest_file.staged_at.clone(),
        source: e,
    })?;
    let manifest = PluginManifest::from_json(&bytes)?;
    if !files.iter().any(|f| f.path == manifest.entry_point) {
        return Err(PackageError::MissingEntryPoint(
            manifest.entry_point.clone(),
        ));
    }
    Ok(StagedPackage {
        dir,
        manifest,
        files,
    })
}

/// Reads only the manifest of the package at `source` (directory or zip),
/// with the same refusals as [`stage`] for the manifest entry, writing
/// nothing. Used to list a catalog without unpacking every package.
pub fn read_manifest(source: &Path) -> Result<PluginManifest, PackageError> {
    let meta = std::fs::metadata(source).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PackageError::Missing(source.to_owned()),
        _ => PackageError::Unreadable {
            path: source.to_owned(),
            source: e,
        },
    })?;
    let no_manifest = || {
        PackageError::Manifest(ManifestError {
            field: String::new(),
            message: "the package has no manifest.json at its root; add one describing the plugin"
                .into(),
            position: None,
        })
    };
    let too_big = |size: u64| {
        PackageError::Manifest(ManifestError {
            field: String::new(),
            message: format!("it is {size} bytes; the limit is {MAX_MANIFEST_BYTES} bytes"),
            position: None,
        })
    };
    let bytes = if meta.is_dir() {
        let path = source.join("manifest.json");
        let link = std::fs::symlink_metadata(&path).map_err(|_| no_manifest())?;
        if !link.is_file() {
            return Err(PackageError::UnsafeEntry {
                name: "manifest.json".into(),
                reason: "it is not a regular file".into(),
            });
        }
        if link.len() > MAX_MANIFEST_BYTES as u64 {
            return Err(too_big(link.len()));
        }
        std::fs::read(&path).map_err(|e| PackageError::Unreadable { path, source: e })?
    } else {
        let file = File::open(source).map_err(|e| PackageError::Unreadable {
            path: source.to_owned(),
            source: e,
        })?;
        let not_zip = |e: zip::result::ZipError| PackageError::NotAZip {
            path: source.to_owned(),
            detail: e.to_string(),
        };
        let config = Config {
            archive_offset: ArchiveOffset::Known(0),
        };
        let mut archive =
            ZipArchive::with_config(config, std::io::BufReader::new(file)).map_err(not_zip)?;
        let matches: Vec<usize> = archive
            .file_names_raw()
            .enumerate()
            .filter(|(_, name)| name.eq_ignore_ascii_case(b"manifest.json"))
            .map(|(i, _)| i)
            .collect();
        let index = match matches.as_slice() {
            [] => return Err(no_manifest()),
            [one] => *one,
            _ => {
                return Err(PackageError::UnsafeEntry {
                    name: "manifest.json".into(),
                    reason: "another entry has the same name (ignoring case)".into(),
                });
            }
        };
        let mut entry = archive.by_index(index).map_err(not_zip)?;
        if entry.is_symlink() || is_link_mode(entry.unix_mode()) {
            return Err(PackageError::UnsafeEntry {
                name: "manifest.json".into(),
                reason: "it is a symbolic or hard link; packages hold regular files only".into(),
            });
        }
        if entry.size() > MAX_MANIFEST_BYTES as u64 {
            return Err(too_big(entry.size()));
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_MANIFEST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| PackageError::UnsafeEntry {
                name: "manifest.json".into(),
                reason: format!("its data does not decompress cleanly ({e})"),
            })?;
        if bytes.len() as u64 != entry.size() {
            return Err(PackageError::UnsafeEntry {
                name: "manifest.json".into(),
                reason: format!(
                    "it holds {}+ bytes but declares {}",
                    bytes.len(),
                    entry.size()
                ),
            });
        }
        bytes
    };
    Ok(PluginManifest::from_json(&bytes)?)
}

/// Checks one package-relative name and returns its normalised form.
pub fn check_entry_name(raw: &[u8]) -> Result<String, PackageError> {
    let lossy = String::from_utf8_lossy(raw).into_owned();
    let refuse = |reason: &str| PackageError::UnsafeEntry {
        name: lossy.clone(),
        reason: reason.to_owned(),
    };
    let name = std::str::from_utf8(raw).map_err(|_| refuse("the name is not valid UTF-8"))?;
    if name.is_empty() {
        return Err(refuse("the name is empty"));
    }
    if name.contains('\0') {
        return Err(refuse("the name contains a NUL byte"));
    }
    if name.starts_with(['/', '\\']) || (name.len() >= 2 && name.as_bytes()[1] == b':') {
        return Err(refuse(
            "the name is an absolute path; entries must be relative to the package root",
        ));
    }
    if name.contains('\\') {
        return Err(refuse(
            "the name contains a backslash; package paths use '/'",
        ));
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    for part in trimmed.split('/') {
        match part {
            "" | "." => return Err(refuse("the name has an empty or '.' component")),
            ".." => {
                return Err(refuse(
                    "the name contains '..', which would write outside the package",
                ));
            }
            _ => {}
        }
        if is_windows_reserved(part) {
            return Err(refuse(&format!(
                "{part:?} is a reserved device name on Windows"
            )));
        }
        if part
            .chars()
            .any(|c| c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        {
            return Err(refuse(
                "the name contains a control character or one of <>:\"|?*",
            ));
        }
    }
    Ok(trimmed.to_owned())
}

fn is_windows_reserved(part: &str) -> bool {
    let stem = part
        .split('.')
        .next()
        .unwrap_or(part)
        .trim_end()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

struct Budget<'a> {
    limits: &'a UnpackLimits,
    total: u64,
    entries: usize,
    seen: HashSet<String>,
}

impl<'a> Budget<'a> {
    fn new(limits: &'a UnpackLimits) -> Self {
        Self {
            limits,
            total: 0,
            entries: 0,
            seen: HashSet::new(),
        }
    }

    fn admit(&mut self, name: &str, size: u64) -> Result<(), PackageError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(PackageError::TooLarge(format!(
                "more than {} entries",
                self.limits.max_entries
            )));
        }
        // Case-insensitive: two names that collide on Windows or macOS are duplicates.
        if !self.seen.insert(name.to_lowercase()) {
            return Err(PackageError::UnsafeEntry {
                name: name.to_owned(),
                reason: "another entry has the same name (ignoring case)".into(),
            });
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_bytes {
            return Err(PackageError::TooLarge(format!(
                "more than {} bytes uncompressed",
                self.limits.max_total_bytes
            )));
        }
        Ok(())
    }
}

fn create_parent(dest: &Path) -> Result<(), PackageError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| PackageError::Staging {
            path: parent.to_owned(),
            source: e,
        })?;
    }
    Ok(())
}

fn create_new(dest: &Path) -> Result<File, PackageError> {
    File::options()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(|e| PackageError::Staging {
            path: dest.to_owned(),
            source: e,
        })
}

fn stage_zip(
    source: &Path,
    staging: &Path,
    limits: &UnpackLimits,
) -> Result<Vec<StagedFile>, PackageError> {
    let file = File::open(source).map_err(|e| PackageError::Unreadable {
        path: source.to_owned(),
        source: e,
    })?;
    let not_zip = |e: zip::result::ZipError| PackageError::NotAZip {
        path: source.to_owned(),
        detail: e.to_string(),
    };
    // Known(0): bytes prepended before the archive are refused, not skipped.
    let config = Config {
        archive_offset: ArchiveOffset::Known(0),
    };
    let mut archive =
        ZipArchive::with_config(config, std::io::BufReader::new(file)).map_err(not_zip)?;
    if archive.has_duplicate_names() {
        return Err(PackageError::UnsafeArchive(
            "two entries have the same name; which one would be used is ambiguous".into(),
        ));
    }
    if let Some(total) = archive.decompressed_size()
        && total > u128::from(limits.max_total_bytes)
    {
        return Err(PackageError::TooLarge(format!(
            "its entries declare {total} bytes uncompressed, over the cap of {} bytes",
            limits.max_total_bytes
        )));
    }
    if archive.has_overlapping_entries().map_err(not_zip)? {
        return Err(PackageError::UnsafeArchive(
            "entries share the same bytes of the archive (overlapping entries, a zip-bomb technique)".into(),
        ));
    }
    let mut budget = Budget::new(limits);
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(not_zip)?;
        let name = check_entry_name(entry.name_raw())?;
        if entry.is_symlink() || is_link_mode(entry.unix_mode()) {
            return Err(PackageError::UnsafeEntry {
                name,
                reason: "it is a symbolic or hard link; packages hold regular files only".into(),
            });
        }
        if entry.encrypted() {
            return Err(PackageError::UnsafeEntry {
                name,
                reason: "it is encrypted".into(),
            });
        }
        let declared = entry.size();
        budget.admit(&name, declared)?;
        if entry.is_dir() {
            continue;
        }
        let compressed = entry.compressed_size().max(1);
        if declared / compressed > limits.max_compression_ratio {
            return Err(PackageError::TooLarge(format!(
                "entry {name:?} expands {}:1, over the cap of {}:1",
                declared / compressed,
                limits.max_compression_ratio
            )));
        }
        let dest = staging.join(&name);
        create_parent(&dest)?;
        let mut out = create_new(&dest)?;
        // Read one byte past the declared size to catch entries that lie.
        let mut limited = (&mut entry).take(declared.saturating_add(1));
        let written =
            std::io::copy(&mut limited, &mut out).map_err(|e| PackageError::UnsafeEntry {
                name: name.clone(),
                reason: format!("its data does not decompress cleanly ({e})"),
            })?;
        if written != declared {
            return Err(PackageError::UnsafeEntry {
                name,
                reason: format!("it holds {written}+ bytes but declares {declared}"),
            });
        }
        out.flush().map_err(|e| PackageError::Staging {
            path: dest.clone(),
            source: e,
        })?;
        files.push(StagedFile {
            path: name,
            staged_at: dest,
            size: declared,
        });
    }
    Ok(files)
}

fn is_link_mode(mode: Option<u32>) -> bool {
    const S_IFMT: u32 = 0o170000;
    const S_IFLNK: u32 = 0o120000;
    mode.is_some_and(|m| m & S_IFMT == S_IFLNK)
}

fn stage_directory(
    source: &Path,
    staging: &Path,
    limits: &UnpackLimits,
) -> Result<Vec<StagedFile>, PackageError> {
    let mut budget = Budget::new(limits);
    let mut files = Vec::new();
    let mut pending = vec![(source.to_owned(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| PackageError::Unreadable {
            path: dir.clone(),
            source: e,
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| PackageError::Unreadable {
                path: dir.clone(),
                source: e,
            })?;
            let file_name = entry.file_name();
            let raw = file_name.to_string_lossy();
            let rel = format!("{prefix}{raw}");
            let name = check_entry_name(rel.as_bytes())?;
            let meta =
                std::fs::symlink_metadata(entry.path()).map_err(|e| PackageError::Unreadable {
                    path: entry.path(),
                    source: e,
                })?;
            if meta.file_type().is_symlink() {
                return Err(PackageError::UnsafeEntry {
                    name,
                    reason: "it is a symbolic link; packages hold regular files only".into(),
                });
            }
            if meta.is_dir() {
                budget.admit(&format!("{name}/"), 0)?;
                pending.push((entry.path(), format!("{name}/")));
                continue;
            }
            if !meta.is_file() {
                return Err(PackageError::UnsafeEntry {
                    name,
                    reason: "it is not a regular file".into(),
                });
            }
            let mut input = File::open(entry.path()).map_err(|e| PackageError::Unreadable {
                path: entry.path(),
                source: e,
            })?;
            let linked = has_other_names(&meta, &input).map_err(|e| PackageError::Unreadable {
                path: entry.path(),
                source: e,
            })?;
            if linked {
                return Err(PackageError::UnsafeEntry {
                    name,
                    reason: "it is a hard link (the file has other names); packages hold plain files only".into(),
                });
            }
            budget.admit(&name, meta.len())?;
            let dest = staging.join(&name);
            create_parent(&dest)?;
            let mut out = create_new(&dest)?;
            let written =
                std::io::copy(&mut (&mut input).take(meta.len() + 1), &mut out).map_err(|e| {
                    PackageError::Staging {
                        path: dest.clone(),
                        source: e,
                    }
                })?;
            if written != meta.len() {
                return Err(PackageError::UnsafeEntry {
                    name,
                    reason: "it changed size while being copied".into(),
                });
            }
            files.push(StagedFile {
                path: name,
                staged_at: dest,
                size: written,
            });
        }
    }
    Ok(files)
}

/// Whether the file `meta` describes (open as `file`) has names besides
/// this one: a hard link shares its contents with a file outside the
/// package. Unix counts links in the metadata; Windows in the handle's
/// file information.
fn has_other_names(meta: &std::fs::Metadata, file: &File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        let _ = file;
        Ok(std::os::unix::fs::MetadataExt::nlink(meta) > 1)
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawHandle;
        use windows_sys::Win32::Storage::FileSystem::{
            BY_HANDLE_FILE_INFORMATION, GetFileInformationByHandle,
        };
        let _ = meta;
        // SAFETY: all-zero is a valid value of this plain C struct.
        let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
        // SAFETY: the handle belongs to `file`, open for the whole call, and
        // `info` is a struct of the type the call fills.
        if unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) } == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(info.nNumberOfLinks > 1)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (meta, file);
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    const MANIFEST: &str = r#"{"name":"p","version":"1.0.0","entry_point":"plugin.wasm","provided_capabilities":["a.b"]}"#;

    fn zip_with(entries: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.zip");
        let mut w = zip::ZipWriter::new(File::create(&path).expect("create"));
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default())
                .expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish");
        (dir, path)
    }

    fn staging_is_empty(root: &Path) -> bool {
        std::fs::read_dir(root)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true)
    }

    #[test]
    fn a_good_zip_is_staged_and_cleaned_up() {
        let (dir, path) = zip_with(&[
            ("manifest.json", MANIFEST.as_bytes()),
            ("plugin.wasm", b"\0asm"),
            ("data/x.txt", b"x"),
        ]);
        let staging = dir.path().join("staging");
        let staged = stage(&path, &staging, &UnpackLimits::default()).expect("staged");
        assert_eq!(staged.manifest.name.as_str(), "p");
        let names: Vec<&str> = staged.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["data/x.txt", "manifest.json", "plugin.wasm"]);
        assert_eq!(staged.entry_point().expect("entry").size, 4);
        drop(staged);
        assert!(staging_is_empty(&staging));
    }

    #[test]
    fn unsafe_names_are_refused_before_anything_is_written() {
        for (bad, why) in [
            ("../escape", "'..'"),
            ("a/../../x", "'..'"),
            ("/etc/x", "absolute"),
            ("C:\\x", "absolute"),
            ("a\\b", "backslash"),
            ("C:/x", "absolute"),
            ("CON", "reserved"),
            ("dir/aux.txt", "reserved"),
            ("a\u{1}b", "control"),
        ] {
            let (dir, path) = zip_with(&[("manifest.json", MANIFEST.as_bytes()), (bad, b"x")]);
            let staging = dir.path().join("staging");
            let err = stage(&path, &staging, &UnpackLimits::default()).expect_err(bad);
            assert!(err.to_string().contains(why), "{bad}: {err}");
            assert!(staging_is_empty(&staging), "{bad}: staging left behind");
            assert!(!dir.path().join("escape").exists());
        }
    }

    #[test]
    fn duplicates_sizes_and_missing_parts_are_refused() {
        let (dir, path) = zip_with(&[
            ("manifest.json", MANIFEST.as_bytes()),
            ("plugin.wasm", b"1"),
            ("PLUGIN.wasm", b"2"),
        ]);
        let err = stage(&path, &dir.path().join("s"), &UnpackLimits::default()).expect_err("dup");
        assert!(err.to_string().contains("same name"), "{err}");

        let (dir, path) = zip_with(&[
            ("manifest.json", MANIFEST.as_bytes()),
            ("plugin.wasm", &[0u8; 100_000]),
        ]);
        let limits = UnpackLimits {
            max_compression_ratio: 10,
            ..UnpackLimits::default()
        };
        let err = stage(&path, &dir.path().join("s"), &limits).expect_err("ratio");
        assert!(err.to_string().contains("expands"), "{err}");
        let limits = UnpackLimits {
            max_total_bytes: 1000,
            ..UnpackLimits::default()
        };
        let err = stage(&path, &dir.path().join("s"), &limits).expect_err("total");
        assert!(err.to_string().contains("too large"), "{err}");

        let (dir, path) = zip_with(&[("manifest.json", MANIFEST.as_bytes())]);
        let err = stage(&path, &dir.path().join("s"), &UnpackLimits::default()).expect_err("entry");
        assert!(err.to_string().contains("no such file"), "{err}");

        let (dir, path) = zip_with(&[("plugin.wasm", b"x")]);
        let err =
            stage(&path, &dir.path().join("s"), &UnpackLimits::default()).expect_err("manifest");
        assert!(err.to_string().contains("no manifest.json"), "{err}");
    }

    #[test]
    fn the_manifest_alone_can_be_read_without_unpacking() {
        let (dir, path) = zip_with(&[
            ("manifest.json", MANIFEST.as_bytes()),
            ("plugin.wasm", b"x"),
        ]);
        assert_eq!(read_manifest(&path).expect("zip").name.as_str(), "p");
        let pkg = dir.path().join("pkg");
        std::fs::create_dir(&pkg).expect("mkdir");
        std::fs::write(pkg.join("manifest.json"), MANIFEST).expect("write");
        assert_eq!(read_manifest(&pkg).expect("dir").name.as_str(), "p");
        let (_dir, path) = zip_with(&[("plugin.wasm", b"x")]);
        assert!(
            read_manifest(&path)
                .expect_err("none")
                .to_string()
                .contains("no manifest.json")
        );
    }

    #[test]
    fn prepended_bytes_and_garbage_are_not_zips() {
        let (dir, path) = zip_with(&[
            ("manifest.json", MANIFEST.as_bytes()),
            ("plugin.wasm", b"x"),
        ]);
        let mut bytes = b"MZ-prefix".to_vec();
        bytes.extend(std::fs::read(&path).expect("read"));
        let prefixed = dir.path().join("prefixed.zip");
        std::fs::write(&prefixed, bytes).expect("write");
        let err = stage(&prefixed, &dir.path().join("s"), &UnpackLimits::default())
            .expect_err("prefixed");
        assert!(err.to_string().contains("not a valid zip"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn directories_with_symlinks_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pkg = dir.path().join("pkg");
        std::fs::create_dir(&pkg).expect("mkdir");
        std::fs::write(pkg.join("manifest.json"), MANIFEST).expect("manifest");
        std::os::unix::fs::symlink("/etc/passwd", pkg.join("plugin.wasm")).expect("link");
        let err = stage(&pkg, &dir.path().join("s"), &UnpackLimits::default()).expect_err("link");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        std::fs::remove_file(pkg.join("plugin.wasm")).expect("unlink");
        std::fs::write(pkg.join("plugin.wasm"), b"x").expect("file");
        let staged =
            stage(&pkg, &dir.path().join("s"), &UnpackLimits::default()).expect("dir package");
        assert_eq!(staged.files.len(), 2);
    }

    #[test]
    fn directories_with_hard_links_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pkg = dir.path().join("pkg");
        std::fs::create_dir(&pkg).expect("mkdir");
        std::fs::write(pkg.join("manifest.json"), MANIFEST).expect("manifest");
        std::fs::write(dir.path().join("secret"), b"secret").expect("secret");
        std::fs::hard_link(dir.path().join("secret"), pkg.join("plugin.wasm")).expect("link");
        let err = stage(&pkg, &dir.path().join("s"), &UnpackLimits::default()).expect_err("link");
        assert!(err.to_string().contains("hard link"), "{err}");
        std::fs::remove_file(dir.path().join("secret")).expect("unlink");
        let staged =
            stage(&pkg, &dir.path().join("s"), &UnpackLimits::default()).expect("one name left");
        assert_eq!(staged.files.len(), 2);
    }
}
