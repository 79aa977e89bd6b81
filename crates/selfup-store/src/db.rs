//! Opening the database: pragmas, migrations, one connection per user.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::migrations::{self, MigrateError};
use crate::{Home, StoreError};

/// How long a writer waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The selfup store: the database and the artifact directory of one home.
///
/// Registry, event and audit operations are methods on `Store` (see the
/// `registry`, `events` and `audit` modules); telemetry is written through a
/// [`crate::telemetry::TelemetryWriter`], which has its own connection.
pub struct Store {
    home: Home,
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the store of `home`, migrating the schema.
    pub fn open(home: &Home) -> Result<Self, StoreError> {
        home.create()?;
        let path = home.database();
        let mut conn = connect(&path)?;
        migrations::migrate(&mut conn).map_err(|e| match e {
            MigrateError::TooNew(found) => StoreError::SchemaTooNew {
                path: path.clone(),
                found,
                supported: migrations::SCHEMA_VERSION,
            },
            other => other.into(),
        })?;
        Ok(Self {
            home: home.clone(),
            conn: Mutex::new(conn),
        })
    }

    /// The home this store lives in.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        migrations::SCHEMA_VERSION
    }

    /// Locks the connection. A panic in another thread while holding it
    /// leaves SQLite consistent (its transaction was rolled back on drop),
    /// so a poisoned lock is recovered.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `PRAGMA quick_check` and returns its findings ("ok" when healthy).
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("PRAGMA quick_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Opens a connection with selfup's pragmas: WAL, NORMAL sync (durable at
/// checkpoints, never corrupt), foreign keys, a busy timeout.
pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Refused(format!(
            "the database {} cannot use WAL mode (got {mode}); put the selfup home on a local file system",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_creates_the_home_in_wal_mode_and_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path().join("home"));
        let store = Store::open(&home).expect("open");
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        assert_eq!(store.integrity_check().expect("check"), vec!["ok"]);
        drop(store);
        Store::open(&home).expect("reopen");
        assert!(home.database().exists());
        assert!(home.artifacts_dir().is_dir());
    }

    #[test]
    fn a_newer_schema_is_refused_with_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        drop(Store::open(&home).expect("open"));
        let conn = Connection::open(home.database()).expect("raw");
        conn.pragma_update(None, "user_version", 99).expect("bump");
        drop(conn);
        let err = Store::open(&home).err().expect("refused");
        let text = err.to_string();
        assert!(text.contains("schema version 99"), "{text}");
        assert!(text.contains("selfup.db"), "{text}");
    }
}
