//! Looking at a home's database without changing it (`selfup doctor`):
//! no migration, no creation; the schema version, an integrity check and
//! the size of the write-ahead log.

use std::path::PathBuf;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::{Home, migrations};

/// Most problems `PRAGMA integrity_check` reports before it stops.
const MAX_FINDINGS: u32 = 20;

/// What was found in the database file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatabaseReport {
    /// The database file.
    pub path: PathBuf,
    /// Its size, bytes.
    pub size_bytes: u64,
    /// The size of its write-ahead log (`-wal`), bytes (0 when absent).
    pub wal_bytes: u64,
    /// The schema version it is at (`PRAGMA user_version`).
    pub schema_version: i64,
    /// The schema version this build writes.
    pub supported_version: i64,
    /// `["ok"]` when healthy; otherwise SQLite's findings.
    pub integrity: Vec<String>,
}

/// Why the database could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// There is no database file (nothing was ever stored in this home).
    #[error("there is no database at {0}")]
    Missing(PathBuf),
    /// SQLite could not open or read it.
    #[error("cannot read the database {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

/// Inspects the database of `home` (read and write access, so a leftover
/// write-ahead log can be read, but nothing is written).
pub fn inspect_database(home: &Home) -> Result<DatabaseReport, InspectError> {
    let path = home.database();
    let size_bytes = match std::fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(_) => return Err(InspectError::Missing(path)),
    };
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    let wal_bytes = std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len());
    let unreadable = |source| InspectError::Unreadable {
        path: path.clone(),
        source,
    };
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(unreadable)?;
    let schema_version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(unreadable)?;
    let integrity = {
        let mut stmt = conn
            .prepare(&format!("PRAGMA integrity_check({MAX_FINDINGS})"))
            .map_err(unreadable)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(unreadable)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(unreadable)?
    };
    Ok(DatabaseReport {
        path,
        size_bytes,
        wal_bytes,
        schema_version,
        supported_version: migrations::SCHEMA_VERSION,
        integrity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn a_fresh_store_is_current_and_intact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        assert!(matches!(
            inspect_database(&home),
            Err(InspectError::Missing(_))
        ));
        drop(Store::open(&home).expect("open"));
        let report = inspect_database(&home).expect("inspect");
        assert_eq!(report.integrity, vec!["ok"]);
        assert_eq!(report.schema_version, report.supported_version);
        assert!(report.size_bytes > 0);
    }

    #[test]
    fn garbage_is_reported_not_migrated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        std::fs::write(home.database(), vec![0x5a; 8192]).expect("write");
        assert!(matches!(
            inspect_database(&home),
            Err(InspectError::Unreadable { .. })
        ));
        assert_eq!(
            std::fs::read(home.database()).expect("read"),
            vec![0x5a; 8192]
        );
    }
}
