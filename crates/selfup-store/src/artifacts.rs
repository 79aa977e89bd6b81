//! The content-addressed artifact store: `artifacts/sha256/<2 hex>/<64 hex>`.
//!
//! A file is written to a temporary name in the same directory tree, synced,
//! and renamed into place, so a reader sees either nothing or the whole
//! file. Content never changes under a hash, so writing is idempotent.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::StoreError;

/// Where artifacts live and how to put and get them.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
}

/// The result of storing one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredArtifact {
    /// Lowercase hex SHA-256 of the content.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether this call created the file (false: it was already there).
    pub created: bool,
}

impl ArtifactStore {
    /// An artifact store rooted at `root` (usually `Home::artifacts_dir`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path of the artifact with `hash` (which may not exist).
    pub fn path(&self, hash: &str) -> PathBuf {
        let prefix = hash.get(..2).unwrap_or("__");
        self.root.join("sha256").join(prefix).join(hash)
    }

    /// Whether an artifact with `hash` is stored.
    pub fn contains(&self, hash: &str) -> bool {
        is_hex_sha256(hash) && self.path(hash).is_file()
    }

    /// Copies the file at `source` into the store.
    pub fn put_file(&self, source: &Path) -> Result<StoredArtifact, StoreError> {
        let mut input = File::open(source).map_err(|e| StoreError::io("opening", source, e))?;
        self.put_reader(&mut input, source)
    }

    /// Stores `bytes`.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<StoredArtifact, StoreError> {
        let mut reader = bytes;
        self.put_reader(&mut reader, Path::new("<memory>"))
    }

    fn put_reader(
        &self,
        input: &mut dyn Read,
        origin: &Path,
    ) -> Result<StoredArtifact, StoreError> {
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(|e| StoreError::io("creating", &tmp_dir, e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir)
            .map_err(|e| StoreError::io("creating a temporary file in", &tmp_dir, e))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = input
                .read(&mut buf)
                .map_err(|e| StoreError::io("reading", origin, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])
                .map_err(|e| StoreError::io("writing", tmp.path(), e))?;
            size += n as u64;
        }
        let hash = hex::encode(hasher.finalize());
        let dest = self.path(&hash);
        if dest.is_file() {
            return Ok(StoredArtifact {
                hash,
                size,
                created: false,
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| StoreError::io("syncing", tmp.path(), e))?;
        let parent = dest.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| StoreError::io("creating", &parent, e))?;
        tmp.persist(&dest)
            .map_err(|e| StoreError::io("moving into place", &dest, e.error))?;
        sync_dir(&parent)?;
        Ok(StoredArtifact {
            hash,
            size,
            created: true,
        })
    }

    /// Reads an artifact and checks that its content still matches its hash.
    pub fn read_verified(&self, hash: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(hash);
        let bytes = std::fs::read(&path).map_err(|e| StoreError::io("reading", &path, e))?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != hash {
            return Err(StoreError::Corrupt {
                table: "artifacts",
                detail: format!(
                    "{} holds content with hash {actual}; the artifact was altered on disk — reinstall the plugin",
                    path.display()
                ),
            });
        }
        Ok(bytes)
    }

    /// Deletes an artifact (used to undo the artifacts a failed install created).
    pub fn remove(&self, hash: &str) -> Result<(), StoreError> {
        let path = self.path(hash);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("removing", &path, e)),
        }
    }
}

/// Whether `s` looks like a lowercase hex SHA-256.
pub fn is_hex_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io("syncing", dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
    // Windows cannot open a directory for syncing; the rename is durable
    // once the file itself was synced (NTFS journals metadata).
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_content_addressed_idempotent_and_verified() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::new(dir.path());
        let a = store.put_bytes(b"hello").expect("put");
        assert_eq!(
            a.hash,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(a.created);
        assert_eq!(a.size, 5);
        let b = store.put_bytes(b"hello").expect("again");
        assert!(!b.created);
        assert!(store.contains(&a.hash));
        assert_eq!(store.read_verified(&a.hash).expect("read"), b"hello");
        std::fs::write(store.path(&a.hash), b"evil").expect("tamper");
        let err = store.read_verified(&a.hash).expect_err("tampered");
        assert!(err.to_string().contains("altered on disk"), "{err}");
        store.remove(&a.hash).expect("remove");
        assert!(!store.contains(&a.hash));
        store.remove(&a.hash).expect("removing twice is fine");
    }

    #[test]
    fn hashes_are_recognised() {
        assert!(is_hex_sha256(&"a".repeat(64)));
        assert!(!is_hex_sha256(&"A".repeat(64)));
        assert!(!is_hex_sha256("../../etc/passwd"));
    }
}
