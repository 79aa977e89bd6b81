//! The database: readable, intact (`PRAGMA integrity_check`), at the
//! schema version this build writes, and its write-ahead log not swollen.

use selfup_store::Home;
use selfup_store::inspect::{DatabaseReport, InspectError, inspect_database};

use super::check::Check;
use super::size::human_bytes;

/// A write-ahead log above this is warned about: checkpoints are not
/// keeping up (a long reader, or a crash loop).
const WAL_WARN_BYTES: u64 = 256 * 1024 * 1024;

/// The database checks, and whether the store can be opened for the
/// checks that read it.
pub fn check(home: &Home) -> (Vec<Check>, bool) {
    let report = match inspect_database(home) {
        Ok(report) => report,
        Err(InspectError::Missing(path)) => {
            return (
                vec![Check::warn(
                    "store",
                    format!("there is no database yet at {}", path.display()),
                    "nothing was ever stored in this home: check --home / SELFUP_HOME, or install a plugin (`selfup plugin install`)",
                )],
                false,
            );
        }
        Err(e @ InspectError::Unreadable { .. }) => {
            return (
                vec![Check::fail("store.integrity", e.to_string(), restore(home))],
                false,
            );
        }
    };
    let mut checks = Vec::new();
    let intact = report.integrity == ["ok"];
    checks.push(if intact {
        Check::ok(
            "store.integrity",
            format!(
                "{} ({}) passes PRAGMA integrity_check",
                report.path.display(),
                human_bytes(report.size_bytes)
            ),
        )
    } else {
        Check::fail(
            "store.integrity",
            format!(
                "{} is damaged: {}",
                report.path.display(),
                report.integrity.join("; ")
            ),
            restore(home),
        )
    });
    let schema = schema(&report);
    let current = schema.status == super::check::Status::Ok;
    checks.push(schema);
    checks.push(wal(&report));
    (checks, intact && current)
}

fn restore(home: &Home) -> String {
    format!(
        "stop the service, keep a copy of {db}, then restore it from a backup; if there is none, move it aside and reinstall the plugins (telemetry and upgrade history are lost)",
        db = home.database().display()
    )
}

fn schema(r: &DatabaseReport) -> Check {
    let (found, supported) = (r.schema_version, r.supported_version);
    if found == supported {
        Check::ok(
            "store.migrations",
            format!("schema version {found}, the latest this selfup knows"),
        )
    } else if found > supported {
        Check::fail(
            "store.migrations",
            format!(
                "schema version {found} was written by a newer selfup (this one knows up to {supported})"
            ),
            "run the newer selfup that wrote this home, or restore a backup made before it",
        )
    } else {
        Check::warn(
            "store.migrations",
            format!(
                "schema version {found}: {} migration(s) not applied yet (latest {supported})",
                supported - found
            ),
            "stop the service and run any command that opens the store (e.g. `selfup plugin list`): it applies them",
        )
    }
}

fn wal(r: &DatabaseReport) -> Check {
    if r.wal_bytes > WAL_WARN_BYTES {
        Check::warn(
            "store.wal",
            format!(
                "the write-ahead log is {} (checkpoints are not keeping up)",
                human_bytes(r.wal_bytes)
            ),
            "restart the service: the log is checkpointed and truncated when the last connection closes",
        )
    } else {
        Check::ok(
            "store.wal",
            format!("write-ahead log {}", human_bytes(r.wal_bytes)),
        )
    }
}
