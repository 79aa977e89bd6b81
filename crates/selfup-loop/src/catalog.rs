//! The catalog: where upgrade candidates come from. A directory of
//! packages (the embedded default) or an HTTP index of packages.
//!
//! An HTTP index is JSON:
//! `{"expires_at": 1798761600, "packages": [{"url": "text-summarize-2.0.0.zip", "sha256": "…", "manifest": {…}}]}`,
//! where `url` is absolute or relative to the index. It is signed by a
//! trusted key (`<index url>.minisig`, trusted comment
//! [`INDEX_COMMENT`]), and refused once `expires_at` (Unix seconds) has
//! passed, so that a stale index cannot be replayed to freeze upgrades. A
//! package is downloaded only when an upgrade needs it, and refused
//! unless its SHA-256 matches the index.

use std::path::{Path, PathBuf};

use selfup_core::manifest::PluginManifest;
use selfup_plugins::package::read_manifest;
use selfup_plugins::signing::{PublicKey, SignatureError, verify_bytes};
use semver::Version;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The trusted comment of a catalog index signature.
pub const INDEX_COMMENT: &str = "selfup-catalog-index";

/// Largest index, in bytes.
pub const MAX_INDEX_BYTES: usize = 16 * 1024 * 1024;

/// How an index must be trusted.
#[derive(Debug, Clone)]
pub struct IndexTrust {
    /// Refuse an index without a valid signature by one of `keys`.
    pub require_signature: bool,
    /// The trusted keys.
    pub keys: Vec<PublicKey>,
    /// Now, in ms since the Unix epoch (an expired index is refused).
    pub now_ms: i64,
}

/// Largest package downloaded from an index, in bytes.
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// Where a catalog entry's package is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PackageLocation {
    /// A file or directory on this machine.
    Path {
        /// The package.
        path: PathBuf,
    },
    /// A package behind an index, with the hash it must have.
    Url {
        /// Its address.
        url: String,
        /// Its SHA-256 (hex).
        sha256: String,
    },
}

impl std::fmt::Display for PackageLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackageLocation::Path { path } => write!(f, "{}", path.display()),
            PackageLocation::Url { url, .. } => f.write_str(url),
        }
    }
}

/// One package the catalog offers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogEntry {
    /// Its manifest.
    pub manifest: PluginManifest,
    /// Where to get it.
    pub location: PackageLocation,
}

/// What the catalog offers, and what it could not read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Catalog {
    /// The packages, by name then version.
    pub entries: Vec<CatalogEntry>,
    /// Packages that could not be read, with why (they are skipped).
    pub problems: Vec<String>,
}

/// Why a catalog or one of its packages could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog directory cannot be read.
    #[error("cannot read the catalog directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The index could not be fetched.
    #[error("cannot fetch the catalog index {url}: {detail}")]
    Fetch {
        /// The index or package address.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The index's signature is missing, invalid or untrusted.
    #[error("the catalog index {url} is refused: {source}")]
    Signature {
        /// The index address.
        url: String,
        /// Why.
        source: SignatureError,
    },
    /// The index has expired.
    #[error(
        "the catalog index {url} expired {ago_hours:.1} hours ago (expires_at {expires_at}); a stale index is refused so that an old one cannot be replayed to hold upgrades back — its publisher must sign a fresh one"
    )]
    Expired {
        /// The index address.
        url: String,
        /// Its expiry, Unix seconds.
        expires_at: i64,
        /// How long ago.
        ago_hours: f64,
    },
    /// The index is not what it should be.
    #[error("the catalog index {url} is not valid: {detail}")]
    Index {
        /// The index address.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// A downloaded package does not match the index.
    #[error(
        "the package {url} has SHA-256 {actual}, but the index says {expected}; it was not used"
    )]
    HashMismatch {
        /// The package address.
        url: String,
        /// What the index says.
        expected: String,
        /// What arrived.
        actual: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Catalog {
    /// Reads every package (`.zip` file or directory with a manifest) in
    /// `dir`. Packages that cannot be read are listed in `problems`.
    pub fn from_directory(dir: &Path) -> Result<Self, CatalogError> {
        let read = std::fs::read_dir(dir).map_err(|source| CatalogError::Directory {
            path: dir.to_owned(),
            source,
        })?;
        let mut catalog = Catalog::default();
        let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let is_zip = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
            if !(is_zip || path.join("manifest.json").is_file()) {
                continue;
            }
            match read_manifest(&path) {
                Ok(manifest) => catalog.entries.push(CatalogEntry {
                    manifest,
                    location: PackageLocation::Path { path },
                }),
                Err(e) => catalog.problems.push(format!("{}: {e}", path.display())),
            }
        }
        catalog.sort();
        Ok(catalog)
    }

    /// Fetches and reads an HTTP index, checking its signature and expiry
    /// as `trust` says.
    pub async fn from_index(
        url: &str,
        client: &reqwest::Client,
        trust: &IndexTrust,
    ) -> Result<Self, CatalogError> {
        let fetch = |detail: String| CatalogError::Fetch {
            url: url.to_owned(),
            detail,
        };
        let response = client
            .get(url)
            .send()
            .await
            .map_err(|e| fetch(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fetch(format!("HTTP {}", response.status())));
        }
        let body = response.bytes().await.map_err(|e| fetch(e.to_string()))?;
        if body.len() > MAX_INDEX_BYTES {
            return Err(fetch(format!(
                "the index is larger than {MAX_INDEX_BYTES} bytes"
            )));
        }
        let signature = match client.get(format!("{url}.minisig")).send().await {
            Ok(r) if r.status().is_success() => {
                Some(r.bytes().await.map_err(|e| fetch(e.to_string()))?)
            }
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => None,
            Ok(r) => return Err(fetch(format!("its signature: HTTP {}", r.status()))),
            Err(e) => return Err(fetch(format!("its signature: {e}"))),
        };
        if signature.is_some() || trust.require_signature {
            verify_bytes(&body, signature.as_deref(), &trust.keys, INDEX_COMMENT, &format!("the catalog index {url}"))
                .map_err(|source| match source {
                    SignatureError::ManifestTampered { key_id, .. } => CatalogError::Index {
                        url: url.to_owned(),
                        detail: format!(
                            "its signature by key {key_id} does not match its content: it was changed after signing; do not use it"
                        ),
                    },
                    source => CatalogError::Signature {
                        url: url.to_owned(),
                        source,
                    },
                })?;
        }
        let index: IndexDocument =
            serde_json::from_slice(&body).map_err(|e| CatalogError::Index {
                url: url.to_owned(),
                detail: e.to_string(),
            })?;
        let base = reqwest::Url::parse(url).map_err(|e| CatalogError::Index {
            url: url.to_owned(),
            detail: e.to_string(),
        })?;
        match index.expires_at {
            Some(expires_at) if expires_at * 1000 <= trust.now_ms => {
                return Err(CatalogError::Expired {
                    url: url.to_owned(),
                    expires_at,
                    ago_hours: (trust.now_ms - expires_at * 1000) as f64 / 3_600_000.0,
                });
            }
            None if trust.require_signature => {
                return Err(CatalogError::Index {
                    url: url.to_owned(),
                    detail: "it has no expires_at; a signed index must say until when it is fresh"
                        .into(),
                });
            }
            _ => {}
        }
        let mut catalog = Catalog::default();
        for (i, package) in index.packages.into_iter().enumerate() {
            let problem = |why: String| format!("{url} package {i}: {why}");
            let manifest = match serde_json::to_vec(&package.manifest)
                .map_err(|e| e.to_string())
                .and_then(|bytes| PluginManifest::from_json(&bytes).map_err(|e| e.to_string()))
            {
                Ok(m) => m,
                Err(e) => {
                    catalog.problems.push(problem(e));
                    continue;
                }
            };
            let sha_ok =
                package.sha256.len() == 64 && package.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !sha_ok {
                catalog.problems.push(problem(format!(
                    "sha256 {:?} is not a hex SHA-256",
                    package.sha256
                )));
                continue;
            }
            let resolved = match base.join(&package.url) {
                Ok(u) => u.to_string(),
                Err(e) => {
                    catalog
                        .problems
                        .push(problem(format!("url {:?}: {e}", package.url)));
                    continue;
                }
            };
            catalog.entries.push(CatalogEntry {
                manifest,
                location: PackageLocation::Url {
                    url: resolved,
                    sha256: package.sha256.to_ascii_lowercase(),
                },
            });
        }
        catalog.sort();
        Ok(catalog)
    }

    /// Adds the entries of `other` (for a directory and an index together).
    pub fn merge(&mut self, other: Catalog) {
        self.entries.extend(other.entries);
        self.problems.extend(other.problems);
        self.sort();
    }

    fn sort(&mut self) {
        self.entries.sort_by(|a, b| {
            (a.manifest.name.as_str(), &a.manifest.version)
                .cmp(&(b.manifest.name.as_str(), &b.manifest.version))
        });
        self.entries.dedup_by(|a, b| {
            a.manifest.name == b.manifest.name && a.manifest.version == b.manifest.version
        });
    }

    /// The highest version of `name` newer than `than`, if any.
    pub fn newest_above(&self, name: &str, than: &Version) -> Option<&CatalogEntry> {
        self.entries
            .iter()
            .filter(|e| {
                e.manifest.name.as_str() == name
                    && &e.manifest.version > than
                    && e.manifest.version.pre.is_empty()
            })
            .max_by(|a, b| a.manifest.version.cmp(&b.manifest.version))
    }

    /// The newest version of each plugin providing `capability`.
    pub fn providers_of(&self, capability: &str) -> Vec<&CatalogEntry> {
        let mut best: Vec<&CatalogEntry> = Vec::new();
        for e in self.entries.iter().filter(|e| {
            e.manifest
                .provided_capabilities
                .iter()
                .any(|c| c.as_str() == capability)
        }) {
            match best.iter_mut().find(|b| b.manifest.name == e.manifest.name) {
                Some(b) if b.manifest.version < e.manifest.version => *b = e,
                Some(_) => {}
                None => best.push(e),
            }
        }
        best
    }

    /// Every capability some catalog package provides.
    pub fn capabilities(&self) -> Vec<String> {
        let mut caps: Vec<String> = self
            .entries
            .iter()
            .flat_map(|e| {
                e.manifest
                    .provided_capabilities
                    .iter()
                    .map(|c| c.to_string())
            })
            .collect();
        caps.sort();
        caps.dedup();
        caps
    }
}

/// Makes the package of `location` available as a local path: local
/// packages as they are, remote ones downloaded into `download_dir` and
/// checked against their SHA-256.
pub async fn fetch(
    location: &PackageLocation,
    download_dir: &Path,
    client: &reqwest::Client,
) -> Result<PathBuf, CatalogError> {
    let (url, sha256) = match location {
        PackageLocation::Path { path } => return Ok(path.clone()),
        PackageLocation::Url { url, sha256 } => (url, sha256),
    };
    let dest = download_dir.join(format!("{sha256}.zip"));
    if dest.is_file() {
        return Ok(dest);
    }
    let fetch_err = |detail: String| CatalogError::Fetch {
        url: url.clone(),
        detail,
    };
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| fetch_err(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fetch_err(format!("HTTP {}", response.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| fetch_err(e.to_string()))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_DOWNLOAD_BYTES {
            return Err(fetch_err(format!(
                "the package is larger than {MAX_DOWNLOAD_BYTES} bytes"
            )));
        }
    }
    let actual = hex::encode(Sha256::digest(&bytes));
    if &actual != sha256 {
        return Err(CatalogError::HashMismatch {
            url: url.clone(),
            expected: sha256.clone(),
            actual,
        });
    }
    std::fs::create_dir_all(download_dir).map_err(|source| CatalogError::Write {
        path: download_dir.to_owned(),
        source,
    })?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(download_dir).map_err(|source| CatalogError::Write {
            path: download_dir.to_owned(),
            source,
        })?;
    std::io::Write::write_all(&mut tmp, &bytes).map_err(|source| CatalogError::Write {
        path: dest.clone(),
        source,
    })?;
    tmp.persist(&dest).map_err(|e| CatalogError::Write {
        path: dest.clone(),
        source: e.error,
    })?;
    Ok(dest)
}

#[derive(Deserialize)]
struct IndexDocument {
    #[serde(default)]
    expires_at: Option<i64>,
    packages: Vec<IndexPackage>,
}

#[derive(Deserialize)]
struct IndexPackage {
    url: String,
    sha256: String,
    manifest: serde_json::Value,
}
